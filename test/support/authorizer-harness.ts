import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { Authorizer } from '../../authorizer/server.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import { createLogger } from '../../shared/log.js';
import { loadPolicy, type Policy } from '../../shared/policy/index.js';
import type { RedisClient } from '../../shared/redis/connect.js';
import { connectRedis } from '../../shared/redis/connect.js';
import { generateSigningKeySet, loadSigningKeys, type SigningKeys } from '../../shared/tokens/index.js';
import { startSystem } from '../../system/start.js';
import { deletePrefix, REDIS_TARGET, waitReady } from './redis.js';
import { grantedToken } from './requests.js';
import {
  closedPort,
  type EchoUpstream,
  startEchoUpstream,
  startWsEchoUpstream,
  type WsUpstream,
} from './upstreams.js';

export const ALICE = 'U0ALICE' as SlackUserId;
export const BOB = 'U0BOB' as SlackUserId;
export const PUBLIC_URL = 'http://127.0.0.1:8080';

/**
 * The test policy: every kind of resource the authorizer must handle, on real local upstreams. app,
 * other and live take browser cookies on the shared origin; lan, local, stream and down take bearer
 * tokens only, like every pathPrefix resource that does not say `browser: shared-origin`. stream
 * accepts WebSockets for its talker role only.
 */
function policyFor(echo: EchoUpstream, ws: WsUpstream, downPort: number, extra = ''): Policy {
  return loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 1h }
resources:
  app:
    upstream: ${echo.url}
    match: { pathPrefix: /app }
    browser: shared-origin
    approvers: { users: [U0BOSS] }
    roles:
      viewer: { methods: [GET, HEAD] }
      editor: { methods: ["*"], paths: ["/api/**"] }
  other:
    upstream: ${echo.url}
    match: { pathPrefix: /other }
    browser: shared-origin
    approvers: { users: [U0BOSS] }
  lan:
    upstream: ${echo.url}
    match: { pathPrefix: /lan }
    approvers: { users: [U0BOSS] }
    networks: [10.0.0.0/8]
  local:
    upstream: ${echo.url}
    match: { pathPrefix: /local }
    approvers: { users: [U0BOSS] }
    networks: [127.0.0.0/8]
  hosted:
    upstream: ${echo.url}
    match: { host: hosted.test.local }
    approvers: { users: [U0BOSS] }
  live:
    upstream: ${ws.url}
    match: { pathPrefix: /live }
    browser: shared-origin
    approvers: { users: [U0BOSS] }
    websocket: true
  stream:
    upstream: ${ws.url}
    match: { pathPrefix: /stream }
    approvers: { users: [U0BOSS] }
    websocket: true
    roles:
      viewer: { methods: [GET, HEAD] }
      admin: { methods: ["*"] }
      talker: { methods: [GET], websocket: true }
  down:
    upstream: http://127.0.0.1:${downPort}
    match: { pathPrefix: /down }
    approvers: { users: [U0BOSS] }
${extra}`);
}

export interface Harness {
  url: string;
  redis: RedisClient;
  prefix: string;
  store: AccessStore;
  keys: SigningKeys;
  policy: Policy;
  echo: EchoUpstream;
  ws: WsUpstream;
  authorizer: Authorizer;
  /** A grant minted in Redis (auto-approved) and a real token for it. */
  grant(
    resource: string,
    role?: string,
    opts?: { user?: SlackUserId; durationMs?: number },
  ): Promise<{
    grantId: GrantId;
    expiresAt: number;
    token: string;
  }>;
  close(): Promise<void>;
}

/** Starts upstreams, an authorizer on port 0 and a Redis connection with a key prefix of its own. */
export async function startHarness(
  options: {
    trustedProxies?: string[];
    upstreamTimeoutMs?: number;
    redisUrl?: string;
    publicUrl?: string;
    /** Collects the authorizer's JSON log lines (otherwise it is silent). */
    logLines?: string[];
    /** The authorizer's key set (default: a fresh EdDSA one). */
    signingKeys?: SigningKeys;
    /** More resources, as policy YAML indented under `resources:` (e.g. on a hostile upstream). */
    resources?: string;
  } = {},
): Promise<Harness> {
  const [echo, ws, downPort] = await Promise.all([startEchoUpstream(), startWsEchoUpstream(), closedPort()]);
  const policy = policyFor(echo, ws, downPort, options.resources);
  const publicUrl = options.publicUrl ?? PUBLIC_URL;
  const keys = options.signingKeys ?? (await loadSigningKeys(JSON.stringify(await generateSigningKeySet())));
  const redis = connectRedis(options.redisUrl ?? REDIS_TARGET);
  redis.on('error', () => {});
  await waitReady(redis);
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const store = new AccessStore(redis, { prefix, clock: systemClock });
  // The authorizer as `npm run start:authorizer` starts it, on this harness's connection and prefix.
  const system = await startSystem({
    roles: ['authorizer'],
    overrides: {
      redis,
      prefix,
      policy,
      signingKeys: keys,
      publicUrl,
      trustedProxies: options.trustedProxies ?? [],
      log: options.logLines
        ? createLogger('authorizer-test', 'debug', {
            write: (line: string) => void options.logLines!.push(line),
          })
        : createLogger('authorizer-test', 'silent'),
      authorizerPort: 0,
      authorizerHost: '127.0.0.1',
      authorizerTimings: {
        upstreamTimeoutMs: options.upstreamTimeoutMs ?? 1_000,
        usageFlushMs: 200,
        shutdownGraceMs: 1_000,
      },
    },
  });
  const { url, authorizer } = system.authorizer!;

  const grant = (resource: string, role?: string, opts: { user?: SlackUserId; durationMs?: number } = {}) =>
    grantedToken({ store, policy, keys, issuer: publicUrl }, resource, role, opts);

  return {
    url,
    redis,
    prefix,
    store,
    keys,
    policy,
    echo,
    ws,
    authorizer,
    grant,
    async close() {
      await system.stop();
      await Promise.all([echo.close(), ws.close()]);
      await deletePrefix(redis, prefix).catch(() => {});
      redis.disconnect();
    },
  };
}

/** The JSON an echo upstream answered with. */
export interface Echoed {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: string;
}

export interface Answer {
  status: number;
  headers: import('node:http').IncomingHttpHeaders;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/**
 * A raw HTTP request: the path goes out byte for byte (fetch would normalise `%2e%2e` and the like,
 * and it cannot set Host), so the tests see what a hostile client can really send.
 */
export function send(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {},
): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname, port, path, method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Every audit event written under the harness's prefix, oldest first. */
export async function auditEvents(h: Harness): Promise<Record<string, unknown>[]> {
  const entries = (await h.redis.xrange(h.store.keys.auditStream, '-', '+')) as [string, string[]][];
  return entries.map(([, flat]) => JSON.parse(flat[flat.indexOf('e') + 1]!) as Record<string, unknown>);
}

/** Polls until `check` passes (for effects that happen off the response path). */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
