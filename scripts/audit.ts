/**
 * `npm run audit -- verify` checks the hash chain; `npm run audit -- export [--since 24h]` prints
 * the events as JSON lines. Exit codes: 0 fine, 1 the chain is broken, 2 bad usage, 3 Redis unreachable.
 */
import { exportAudit, verifyAudit } from '../shared/audit/chain.js';
import { loadConfig } from '../shared/config.js';
import { parseDuration } from '../shared/duration.js';
import { isJitgateError } from '../shared/errors.js';
import { connectRedis } from '../shared/redis/connect.js';
import { redisKeys } from '../shared/redis/keys.js';
import { type CliIo, runWhenEntry } from './cli.js';

const USAGE = `usage: npm run audit -- verify
       npm run audit -- export [--since <duration, e.g. 24h>]`;

class UsageError extends Error {}

/** The command and, for export, the oldest time to print (ms since the epoch; 0 for all). */
function parseArgs(argv: string[]): { command: 'verify' | 'export'; sinceMs: number } {
  const [command, ...rest] = argv;
  if (command !== 'verify' && command !== 'export')
    throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  if (command === 'verify') {
    if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
    return { command, sinceMs: 0 };
  }
  if (rest.length > 0 && (rest[0] !== '--since' || rest.length !== 2))
    throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (rest[1] === undefined) return { command, sinceMs: 0 };
  try {
    return { command, sinceMs: Date.now() - parseDuration(rest[1]) };
  } catch (err) {
    throw new UsageError(isJitgateError(err) ? err.message : String(err));
  }
}

/** `npm run audit -- <argv>`: answers the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  try {
    return await audit(parseArgs(argv), io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`${err.message}\n${USAGE}\n`);
      return 2;
    }
    io.stderr(`${isJitgateError(err) ? err.message : String(err)}\n`);
    return isJitgateError(err, 'unavailable') ? 3 : 1;
  }
}

async function audit(
  { command, sinceMs }: { command: 'verify' | 'export'; sinceMs: number },
  io: CliIo,
): Promise<number> {
  const config = loadConfig(io.env);
  const redis = connectRedis(config.REDIS_URL, { enableOfflineQueue: true, retryStrategy: () => null });
  redis.on('error', () => {}); // a failed ping below says it, with what to do
  const keys = redisKeys(config.JITGATE_REDIS_PREFIX);
  try {
    await redis.ping();
  } catch {
    io.stderr(`cannot reach Redis at ${config.REDIS_URL}; is it running? (REDIS_URL sets where)\n`);
    redis.disconnect();
    return 3;
  }
  try {
    if (command === 'verify') {
      const result = await verifyAudit(redis, keys);
      if (result.ok) {
        io.stdout(`audit chain intact: ${result.entries} events, head ${result.head}\n`);
        return 0;
      }
      io.stdout(
        `audit chain BROKEN at ${result.brokenAt} after ${result.entries} good events: ${result.problem}\n`,
      );
      return 1;
    }
    for await (const entry of exportAudit(redis, keys, sinceMs)) {
      io.stdout(`${JSON.stringify({ id: entry.id, ...entry.event, prev: entry.prev, hash: entry.hash })}\n`);
    }
    return 0;
  } finally {
    redis.disconnect();
  }
}

runWhenEntry(import.meta.url, run);
