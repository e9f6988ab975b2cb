import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { Cluster } from 'ioredis';
import type { BotDeps } from '../../bot/deps.js';
import type { TestIdp } from '../../dev/oidc/provider.js';
import { blockActionsBody, sendToBot, slashCommandBody } from '../../dev/slack/requests.js';
import { type SlackStandin, startSlackStandin } from '../../dev/slack/standin.js';
import type { SignInConfig } from '../../shared/config.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { loadPolicy, type Policy } from '../../shared/policy/index.js';
import { connectRedis, type RedisClient } from '../../shared/redis/connect.js';
import { type RedisKeys, redisKeys } from '../../shared/redis/keys.js';
import type { RedisTarget } from '../../shared/redis/target.js';
import { generateSigningKeySet, loadSigningKeys, type SigningKeys } from '../../shared/tokens/index.js';
import { startSystem } from '../../system/start.js';
import { type DemoDatabase, demoDatabasePolicy } from './database.js';
import { type SampleUpstream, startSampleUpstream } from './sample-upstream.js';

/** The people of the demo workspace. */
export const DEMO_PEOPLE = {
  dana: { id: 'U0DANA', name: 'dana', email: 'dana@example.com', realName: 'Dana Developer' },
  alice: { id: 'U0ALICE', name: 'alice', email: 'alice@example.com', realName: 'Alice (SRE, approver)' },
} as const;

export function demoPolicy(upstreamUrl: string, database?: DemoDatabase): string {
  return `
defaults:
  approvalChannel: C0APPROVALS
  defaultDuration: 30m
  maxDuration: 2h
  pendingTimeout: 10m
  nudgeAfter: 5m
  reminderBefore: 5m
resources:
  grafana:
    description: Production Grafana (a sample dashboard in this demo)
    upstream: ${upstreamUrl}
    match: { pathPrefix: /grafana }
    browser: shared-origin
    approvers: { users: [${DEMO_PEOPLE.alice.id}] }
    roles:
      viewer: { methods: [GET, HEAD] }
      editor: { methods: ["*"], paths: ["/api/**"] }
${database ? demoDatabasePolicy(database) : ''}`;
}

export interface LocalStack {
  standin: SlackStandin;
  upstream: SampleUpstream;
  botUrl: string;
  authorizerUrl: string;
  prefix: string;
  keys: RedisKeys;
  redis: RedisClient;
  policy: Policy;
  signing: SigningKeys;
  deps: BotDeps;
  /**
   * The local identity provider the authorizer signs people in at (asked for with `signIn: true`);
   * undefined when sign-in is off, or when the oidc-provider package is not installed.
   */
  idp: TestIdp | undefined;
  /** `/access <text>` typed by a user, signed as Slack signs it. */
  command(userId: string, text: string, responseUrl?: string): Promise<Response>;
  /** A button click by a user on the approval message. */
  click(userId: string, actionId: string, value: string): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * The whole product on this machine: the Slack stand-in, a sample upstream, the bot with its worker,
 * and the authorizer, all on free ports, on the Redis at `redisUrl` under a key prefix of their own.
 */
export async function startLocalStack(options: {
  redisUrl: string | RedisTarget;
  prefix?: string;
  log?: Logger;
  authorizerPort?: number;
  botPort?: number;
  /** Sign-in at the authorizer, at a local OpenID provider that knows the demo's people (matched by e-mail). */
  signIn?: boolean;
  /** A local PostgreSQL database put behind the gateway as prod-db (see database.ts). */
  database?: DemoDatabase | undefined;
}): Promise<LocalStack> {
  const log = options.log ?? createLogger('demo', 'silent');
  const prefix = options.prefix ?? `demo-${randomBytes(4).toString('hex')}`;
  const keys = redisKeys(prefix);
  const botToken = `xoxb-demo-${randomBytes(8).toString('hex')}`;
  const secret = randomBytes(16).toString('hex');
  const standin = await startSlackStandin({ tokens: [botToken], unknownUsers: 'derived' });
  for (const p of Object.values(DEMO_PEOPLE)) {
    standin.setUser(p.id, { email: p.email, name: p.name, realName: p.realName });
  }
  const upstream = await startSampleUpstream();
  const policy = loadPolicy(demoPolicy(upstream.url, options.database), 'the demo policy');
  const signing = await loadSigningKeys(JSON.stringify(await generateSigningKeySet('ES256')));
  // The demo's own store connection, lent to the system, so that stop() can delete the demo's keys.
  const redis = connectRedis(options.redisUrl);
  redis.on('error', () => {});
  // The authorizer's address is the public URL that redeem links point to, so it is chosen first.
  const authorizerPort = options.authorizerPort ?? (await freePort());
  const publicUrl = `http://127.0.0.1:${authorizerPort}`;
  const idp = options.signIn ? await startLocalIdp(publicUrl) : undefined;
  const signIn: SignInConfig | undefined = idp?.signInConfig({ sessionTtlMs: 8 * 3_600_000 });
  const system = await startSystem({
    roles: ['authorizer', 'bot', 'worker'],
    overrides: {
      redis,
      redisUrl: options.redisUrl,
      prefix,
      policy,
      signingKeys: signing,
      slack: { botToken, signingSecret: secret },
      slackApiUrl: standin.apiUrl,
      slackRetry: { retries: 3, minMs: 50, maxMs: 500 },
      publicUrl,
      log,
      botPort: options.botPort ?? 0,
      authorizerPort,
      authorizerHost: '127.0.0.1',
      authorizerTimings: { usageFlushMs: 500 },
      // The PostgreSQL gateway on loopback (no TLS needed there), for the database part.
      ...(options.database ? { postgres: { port: 0, host: '127.0.0.1' } } : {}),
      ...(signIn ? { signIn } : {}),
    },
  });
  const deps = system.deps!;
  const botUrl = system.bot!.url;

  return {
    standin,
    upstream,
    botUrl,
    authorizerUrl: publicUrl,
    prefix,
    keys,
    redis,
    policy,
    signing,
    deps,
    idp,
    command: (userId, text, responseUrl) =>
      sendToBot(botUrl, {
        body: slashCommandBody({
          userId,
          text,
          userName: Object.values(DEMO_PEOPLE).find((p) => p.id === userId)?.name,
          responseUrl: responseUrl ?? standin.responseUrl(`cmd-${randomBytes(4).toString('hex')}`),
        }),
        secret,
      }),
    click: (userId, actionId, value) =>
      sendToBot(botUrl, {
        body: blockActionsBody({ userId, actionId, value, channel: 'C0APPROVALS' } as never),
        secret,
      }),
    async stop() {
      await system.stop();
      await deleteKeys(redis, prefix).catch(() => {});
      redis.disconnect();
      await upstream.close();
      await standin.close();
      await idp?.close();
    },
  };
}

/**
 * The demo's identity provider: panva's oidc-provider on loopback, knowing the demo's people with
 * verified e-mails (signing in as Dana). oidc-provider is a development dependency, so an install
 * without it (the production image) has no local IdP: undefined, and the demo says so.
 */
async function startLocalIdp(publicUrl: string): Promise<TestIdp | undefined> {
  try {
    const { startOidcProvider } = await import('../../dev/oidc/provider.js');
    const idp = await startOidcProvider({
      redirectUris: [`${publicUrl}/_jitgate/oauth2/callback`],
      users: Object.values(DEMO_PEOPLE).map((p) => ({
        sub: `idp-${p.name}`,
        email: p.email,
        email_verified: true,
        name: p.realName,
      })),
    });
    idp.signInAs(`idp-${DEMO_PEOPLE.dana.name}`);
    return idp;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('oidc-provider')) return undefined;
    throw err;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function deleteKeys(redis: RedisClient, prefix: string): Promise<void> {
  // On a cluster the prefix's hash tag keeps every key on one master; SCAN looks at one node.
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', redisKeys(prefix).everyKey, 'COUNT', 1000);
      cursor = next;
      if (found.length > 0) await node.unlink(...found);
    } while (cursor !== '0');
  }
}
