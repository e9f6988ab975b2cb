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

const USAGE = `usage: npm run audit -- verify
       npm run audit -- export [--since <duration, e.g. 24h>]`;

function usage(problem: string): never {
  process.stderr.write(`${problem}\n${USAGE}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'verify' && command !== 'export')
    usage(command ? `unknown command "${command}"` : 'no command given');
  let sinceMs = 0;
  if (command === 'export') {
    if (rest.length > 0 && (rest[0] !== '--since' || rest.length !== 2))
      usage(`unexpected arguments: ${rest.join(' ')}`);
    if (rest[1] !== undefined) {
      try {
        sinceMs = Date.now() - parseDuration(rest[1]);
      } catch (err) {
        usage(isJitgateError(err) ? err.message : String(err));
      }
    }
  } else if (rest.length > 0) {
    usage(`unexpected arguments: ${rest.join(' ')}`);
  }

  const config = loadConfig(process.env);
  const redis = connectRedis(config.REDIS_URL, { enableOfflineQueue: true, retryStrategy: () => null });
  const keys = redisKeys(config.JITGATE_REDIS_PREFIX);
  try {
    await redis.ping();
  } catch {
    process.stderr.write(
      `cannot reach Redis at ${config.REDIS_URL}; is it running? (REDIS_URL sets where)\n`,
    );
    redis.disconnect();
    return 3;
  }
  try {
    if (command === 'verify') {
      const result = await verifyAudit(redis, keys);
      if (result.ok) {
        process.stdout.write(`audit chain intact: ${result.entries} events, head ${result.head}\n`);
        return 0;
      }
      process.stdout.write(
        `audit chain BROKEN at ${result.brokenAt} after ${result.entries} good events: ${result.problem}\n`,
      );
      return 1;
    }
    for await (const entry of exportAudit(redis, keys, sinceMs)) {
      process.stdout.write(
        `${JSON.stringify({ id: entry.id, ...entry.event, prev: entry.prev, hash: entry.hash })}\n`,
      );
    }
    return 0;
  } finally {
    redis.disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${isJitgateError(err) ? err.message : String(err)}\n`);
    process.exit(isJitgateError(err, 'unavailable') ? 3 : 1);
  },
);
