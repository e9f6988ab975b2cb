import type { Redis } from 'ioredis';
import { systemClock } from '../shared/clock.js';
import type { GrantId } from '../shared/ids.js';
import { redisKeys } from '../shared/redis/keys.js';
import { type SigningKeys, signAccessToken } from '../shared/tokens/index.js';
import { BENCH_ISSUER, BENCH_RESOURCE, BENCH_ROLE } from './policy.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** A well-formed, deterministic grant id for bench grant number `i` (`g_` + 26 base32 letters). */
export function benchGrantId(i: number): GrantId {
  let s = '';
  let n = i;
  do {
    s = ALPHABET[n % 32] + s;
    n = Math.floor(n / 32);
  } while (n > 0);
  return `g_bench${s.padStart(21, 'a')}` as GrantId;
}

export const benchUser = (i: number) => `U0BENCH${i}`;
export const benchEmail = (i: number) => `bench.user${i}@example.com`;

const BATCH = 2_000;

/**
 * Writes active grants `from` … `to - 1` as the store's mint() does (the live hash, PEXPIREAT at
 * expiry, the `active` index), pipelined in batches: 100,000 take about a second.
 */
export async function writeGrants(
  redis: Redis,
  prefix: string,
  from: number,
  to: number,
  expiresAt: number,
): Promise<void> {
  const keys = redisKeys(prefix);
  for (let start = from; start < to; start += BATCH) {
    const pipe = redis.pipeline();
    for (let i = start; i < Math.min(to, start + BATCH); i++) {
      const gid = benchGrantId(i);
      const gk = keys.grant(gid);
      pipe.hset(
        gk,
        'status',
        'active',
        'user',
        benchUser(i),
        'email',
        benchEmail(i),
        'resource',
        BENCH_RESOURCE,
        'role',
        BENCH_ROLE,
        'expiresAt',
        expiresAt,
        'requestId',
        `r_${gid.slice(2)}`,
      );
      pipe.pexpireat(gk, expiresAt);
      pipe.zadd(keys.activeGrants, expiresAt, gid);
    }
    failOnError(await pipe.exec());
  }
}

/** Removes grants `from` … `to - 1` written by writeGrants. */
export async function removeGrants(redis: Redis, prefix: string, from: number, to: number): Promise<void> {
  const keys = redisKeys(prefix);
  for (let start = from; start < to; start += BATCH) {
    const pipe = redis.pipeline();
    const ids: string[] = [];
    for (let i = start; i < Math.min(to, start + BATCH); i++) {
      const gid = benchGrantId(i);
      ids.push(gid);
      pipe.unlink(keys.grant(gid));
    }
    pipe.zrem(keys.activeGrants, ...ids);
    failOnError(await pipe.exec());
  }
}

function failOnError(results: [Error | null, unknown][] | null): void {
  const failed = results?.find(([err]) => err);
  if (!results || failed)
    throw new Error(`writing bench grants failed: ${failed?.[0]?.message ?? 'no reply'}`);
}

/** Marks bench grant `i` revoked, as the store's REVOKE script leaves the live key. */
export async function markRevoked(redis: Redis, prefix: string, i: number): Promise<void> {
  await redis.hset(redisKeys(prefix).grant(benchGrantId(i)), 'status', 'revoked');
}

/** Real signed access tokens for bench grants `indexes` (`perGrant` each, distinct by their `jti`). */
export async function tokensFor(
  keys: SigningKeys,
  indexes: number[],
  expiresAt: number,
  perGrant = 1,
): Promise<string[]> {
  const jobs: Promise<string>[] = [];
  for (const i of indexes) {
    for (let k = 0; k < perGrant; k++) {
      jobs.push(
        signAccessToken(
          keys,
          {
            issuer: BENCH_ISSUER,
            grantId: benchGrantId(i),
            user: benchUser(i),
            email: benchEmail(i),
            resource: BENCH_RESOURCE,
            role: BENCH_ROLE,
            expiresAt,
          },
          systemClock,
        ),
      );
    }
  }
  return Promise.all(jobs);
}
