import type { Redis } from 'ioredis';
import { redisKeys } from '../shared/redis/keys.js';

/** `INFO commandstats` as calls per command (`hmget`, `evalsha`, …), server-wide. */
export type CommandCalls = Record<string, number>;

export async function commandCalls(redis: Redis): Promise<CommandCalls> {
  const text = await redis.info('commandstats');
  const calls: CommandCalls = {};
  for (const line of text.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) calls[m[1]!] = Number(m[2]);
  }
  return calls;
}

/** What happened between two snapshots, commands with no calls left out. */
export function callsDelta(before: CommandCalls, after: CommandCalls): CommandCalls {
  const delta: CommandCalls = {};
  for (const [name, n] of Object.entries(after)) {
    const d = n - (before[name] ?? 0);
    if (d > 0) delta[name] = d;
  }
  return delta;
}

/** The calls of `names` in a delta (all of them when no names are given). */
export function sum(calls: CommandCalls, names?: Iterable<string>): number {
  if (!names) return Object.values(calls).reduce((a, b) => a + b, 0);
  let n = 0;
  for (const name of names) n += calls[name] ?? 0;
  return n;
}

/** `INFO memory` used_memory, in bytes. */
export async function usedMemory(redis: Redis): Promise<number> {
  const text = await redis.info('memory');
  const m = /used_memory:(\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

/** `MEMORY USAGE key SAMPLES 0` (every element counted), 0 for a missing key. */
export async function memoryUsage(redis: Redis, key: string): Promise<number> {
  const n = (await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null;
  return n ?? 0;
}

export async function redisVersion(redis: Redis): Promise<string> {
  const text = await redis.info('server');
  return /redis_version:(\S+)/.exec(text)?.[1] ?? 'unknown';
}

/** Deletes every key under a hash-tagged prefix (SCAN + UNLINK); never FLUSHALL. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', redisKeys(prefix).everyKey, 'COUNT', 5000);
    cursor = next;
    if (found.length > 0) deleted += await redis.unlink(...found);
  } while (cursor !== '0');
  return deleted;
}
