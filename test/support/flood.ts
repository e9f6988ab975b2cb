import autocannon from 'autocannon';
import { systemClock } from '../../shared/clock.js';
import type { GrantId } from '../../shared/ids.js';
import type { RedisClient } from '../../shared/redis/connect.js';
import { redisKeys } from '../../shared/redis/keys.js';
import {
  generateSigningKeySet,
  loadSigningKeys,
  type SigningKeys,
  signAccessToken,
} from '../../shared/tokens/index.js';
import { PUBLIC_URL } from './authorizer-harness.js';

/** One kind of request a flood sends: a path and headers, none of them naming a live grant. */
export interface FloodRequest {
  path: string;
  headers?: Record<string, string>;
}

export interface FloodResult {
  requests: number;
  statuses: Record<string, number>;
  errors: number;
  seconds: number;
}

/**
 * Sends `amount` requests to `url`, `connections` at a time over keep-alive sockets, cycling through
 * `kinds` (autocannon, in this process). `onResponse` sees the running count, e.g. to act mid-flood.
 */
export async function flood(
  url: string,
  kinds: readonly FloodRequest[],
  options: { amount: number; connections: number; onResponse?: (done: number) => void },
): Promise<FloodResult> {
  let next = 0;
  let done = 0;
  const statuses: Record<string, number> = {};
  const started = performance.now();
  const instance = autocannon({
    url,
    connections: options.connections,
    amount: options.amount,
    timeout: 20,
    requests: [
      {
        setupRequest: (request) => {
          const kind = kinds[next % kinds.length]!;
          next += 1;
          return { ...request, method: 'GET', path: kind.path, headers: { ...kind.headers } };
        },
      },
    ],
  });
  instance.on('response', (_client, status) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    done += 1;
    options.onResponse?.(done);
  });
  const result = await instance;
  return {
    requests: done,
    statuses,
    errors: result.errors + result.timeouts,
    seconds: (performance.now() - started) / 1000,
  };
}

/** What one key prefix holds in Redis: keys, their MEMORY USAGE summed, and the audit stream's length. */
export interface PrefixFootprint {
  keys: number;
  bytes: number;
  auditEvents: number;
}

export async function footprint(redis: RedisClient, prefix: string): Promise<PrefixFootprint> {
  const k = redisKeys(prefix);
  let cursor = '0';
  let keys = 0;
  let bytes = 0;
  do {
    const [nextCursor, found] = await redis.scan(cursor, 'MATCH', k.everyKey, 'COUNT', 1000);
    cursor = nextCursor;
    keys += found.length;
    for (const key of found) bytes += Number((await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0);
  } while (cursor !== '0');
  return { keys, bytes, auditEvents: await redis.xlen(k.auditStream) };
}

/** `INFO memory`'s used_memory, in bytes. */
export async function usedMemory(redis: RedisClient): Promise<number> {
  const m = /used_memory:(\d+)/.exec(await redis.info('memory'));
  return Number(m?.[1] ?? Number.NaN);
}

/**
 * Requests that name no live grant, each a different way in: none, a malformed token, a token
 * signed by a stranger's key under our `kid`, an expired one of ours, another resource's, an unknown
 * resource or host, an ambiguous path, a garbage cookie; with 12 KB paths and 8 KB user agents, as
 * an attacker who wants each stored record to be large would send.
 */
export async function anonymousRequests(h: {
  keys: SigningKeys;
  grant(resource: string): Promise<{ grantId: GrantId; token: string }>;
}): Promise<FloodRequest[]> {
  const long = 'a'.repeat(12_000);
  const agent = { 'user-agent': `flood/${'u'.repeat(8_000)}` };
  const stranger = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
  const { grantId } = await h.grant('other');
  const claims = { issuer: PUBLIC_URL, grantId, user: 'U0ALICE', email: '', role: 'access' };
  const later = Date.now() + 3_600_000;
  const forged = await signAccessToken(
    { ...stranger, signing: { ...stranger.signing, kid: h.keys.signing.kid } },
    { ...claims, resource: 'app', expiresAt: later },
    systemClock,
  );
  const expired = await signAccessToken(
    h.keys,
    { ...claims, resource: 'app', expiresAt: Date.now() - 60_000 },
    { now: () => Date.now() - 120_000 },
  );
  const otherResource = await signAccessToken(
    h.keys,
    { ...claims, resource: 'other', expiresAt: later },
    systemClock,
  );
  const cheap: FloodRequest[] = [
    { path: `/app/${long}` },
    { path: `/app/x?q=${'q'.repeat(6_000)}`, headers: agent },
    { path: `/app/${long}`, headers: { authorization: 'Bearer not.a.jwt' } },
    { path: `/nowhere/${long}` },
    { path: `/x/${long}`, headers: { host: `${'h'.repeat(2_000)}.example` } },
    { path: `/app/%2e%2e/${long}` },
    { path: `/app/${long}`, headers: { cookie: `jitgate_app=${'c'.repeat(3_000)}` } },
  ];
  // A signature check costs far more than the rest: these come once for every three rounds of the others.
  const signed: FloodRequest[] = [
    { path: `/app/${long}`, headers: { authorization: `Bearer ${forged}` } },
    { path: `/app/${long}`, headers: { authorization: `Bearer ${expired}` } },
    { path: `/app/${long}`, headers: { authorization: `Bearer ${otherResource}` } },
  ];
  return [...cheap, ...cheap, ...cheap, ...signed];
}
