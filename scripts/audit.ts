/**
 * `npm run audit -- verify` checks the hash chain; `npm run audit -- export [--since …] [--until …]
 * [--after <id>]` prints the events as JSON lines (the same lines as the JSON log's `audit`);
 * `npm run audit -- refusals [--since …]` prints the refusals counted per minute, resource and code
 * (those that name no grant are counted, not audited one by one; the last 24 hours are kept).
 * `npm run audit -- report --break-glass [--since …] [--json]` lists break-glass grants and their reviews.
 * Exit codes: 0 fine, 1 the chain is broken, 2 bad usage, 3 Redis unreachable, 4 no events at all.
 */
import { breakGlassReport, formatBreakGlassReport } from '../shared/audit/break-glass-report.js';
import { auditLine, type ExportRange, exportAudit, STREAM_ID, verifyAudit } from '../shared/audit/chain.js';
import { readRefusalCounts } from '../shared/audit/refusal-counts.js';
import { loadConfig } from '../shared/config.js';
import { parseDuration } from '../shared/duration.js';
import { isJitgateError } from '../shared/errors.js';
import { connectRedis } from '../shared/redis/connect.js';
import { redisKeys } from '../shared/redis/keys.js';
import { describeRedis, redisTarget } from '../shared/redis/target.js';
import { type CliIo, runWhenEntry } from './cli.js';

const USAGE = `usage: npm run audit -- verify
       npm run audit -- export [--since <time>] [--until <time>] [--after <id>]
         <time> is a duration before now (24h, 30d) or an ISO 8601 time (2026-12-01T00:00:00Z);
         <id> is the "id" of the last line of an earlier export, to resume after it
       npm run audit -- refusals [--since <time>]   (counted refusals; the last 24h are kept)
       npm run audit -- report --break-glass [--since <time>] [--until <time>] [--json]
         break-glass grants with their review state (unreviewed, justified, flagged)`;

class UsageError extends Error {}

type Command =
  | { command: 'verify' }
  | ({ command: 'export' } & ExportRange)
  | { command: 'refusals'; sinceMs: number }
  | ({ command: 'report'; json: boolean } & ExportRange);

const EXPORT_FLAGS = ['--since', '--until', '--after'] as const;

function parseArgs(argv: string[], now: number): Command {
  const [command, ...rest] = argv;
  if (command !== 'verify' && command !== 'export' && command !== 'refusals' && command !== 'report')
    throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  if (command === 'verify') {
    if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
    return { command };
  }
  if (command === 'refusals') {
    if (rest.length === 0) return { command, sinceMs: 0 };
    if (rest.length !== 2 || rest[0] !== '--since')
      throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
    return { command, sinceMs: parseTime('--since', rest[1]!, now) };
  }
  if (command === 'report') {
    const flags = rest.filter((a) => a === '--break-glass' || a === '--json');
    if (!flags.includes('--break-glass'))
      throw new UsageError('report needs what to report on: npm run audit -- report --break-glass');
    const timed = rest.filter((a) => a !== '--break-glass' && a !== '--json');
    if (timed.includes('--after'))
      throw new UsageError('unexpected argument: --after (report reads whole ranges)');
    const range = parseRange(timed, now);
    return { command, json: flags.includes('--json'), ...range };
  }
  return { command, ...parseRange(rest, now) };
}

/** --since, --until and --after, each at most once. */
function parseRange(rest: string[], now: number): ExportRange {
  const range: ExportRange = {};
  const seen = new Set<string>();
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i]!;
    const value = rest[i + 1];
    if (!(EXPORT_FLAGS as readonly string[]).includes(flag))
      throw new UsageError(`unexpected argument: ${flag}`);
    if (seen.has(flag)) throw new UsageError(`${flag} is given twice`);
    seen.add(flag);
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    if (flag === '--after') {
      if (!STREAM_ID.test(value))
        throw new UsageError(
          `--after ${value}: not an audit id (an export line's "id", like 1764806400000-0)`,
        );
      range.after = value;
    } else if (flag === '--since') range.sinceMs = parseTime(flag, value, now);
    else range.untilMs = parseTime(flag, value, now);
  }
  if (range.sinceMs !== undefined && range.untilMs !== undefined && range.untilMs <= range.sinceMs)
    throw new UsageError('--until must be later than --since');
  return range;
}

/** A duration before now (`24h`) or an ISO 8601 time with its zone (`2026-12-01T00:00:00Z`). */
function parseTime(flag: string, value: string, now: number): number {
  if (/^[0-9]{4}-[0-9]{2}-[0-9]{2}(T.*)?$/.test(value)) {
    const at = Date.parse(value);
    if (Number.isFinite(at)) return at;
  } else {
    try {
      return now - parseDuration(value);
    } catch {
      // worded below, with both forms
    }
  }
  throw new UsageError(
    `${flag} ${value}: not a duration (like 24h or 30d) or an ISO 8601 time (like 2026-12-01T00:00:00Z)`,
  );
}

/** `npm run audit -- <argv>`: answers the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  try {
    return await audit(parseArgs(argv, Date.now()), io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`${err.message}\n${USAGE}\n`);
      return 2;
    }
    io.stderr(`${isJitgateError(err) ? err.message : String(err)}\n`);
    return isJitgateError(err, 'unavailable') ? 3 : 1;
  }
}

async function audit(command: Command, io: CliIo): Promise<number> {
  const config = loadConfig(io.env);
  const target = redisTarget(config);
  const redis = connectRedis(target, { enableOfflineQueue: true, retryStrategy: () => null });
  redis.on('error', () => {}); // a failed ping below says it, with what to do
  const keys = redisKeys(config.JITGATE_REDIS_PREFIX);
  try {
    await redis.ping();
  } catch {
    io.stderr(
      `cannot reach ${describeRedis(target)}; is it running? (REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS set where)\n`,
    );
    redis.disconnect();
    return 3;
  }
  try {
    if (command.command === 'verify') {
      const result = await verifyAudit(redis, keys);
      if (result.ok && result.entries === 0) {
        io.stdout(
          `no audit events under the prefix ${config.JITGATE_REDIS_PREFIX} on ${withoutCredentials(config.REDIS_URL)}: nothing to verify. ` +
            'Is JITGATE_REDIS_PREFIX (or REDIS_URL) the one the bot uses?\n',
        );
        return 4;
      }
      if (result.ok) {
        io.stdout(`audit chain intact: ${result.entries} events, head ${result.head}\n`);
        return 0;
      }
      io.stdout(
        `audit chain BROKEN at ${result.brokenAt} after ${result.entries} good events: ${result.problem}\n`,
      );
      return 1;
    }
    if (command.command === 'refusals') {
      for (const c of await readRefusalCounts(redis, keys, command.sinceMs, Date.now())) {
        const minute = new Date(c.minute).toISOString();
        const line = {
          type: 'access.refused',
          minute,
          resource: c.resource,
          reason: c.reason,
          count: c.count,
        };
        io.stdout(`${JSON.stringify(line)}\n`);
      }
      return 0;
    }
    if (command.command === 'report') {
      const rows = await breakGlassReport(exportAudit(redis, keys, command));
      if (command.json) for (const row of rows) io.stdout(`${JSON.stringify(row)}\n`);
      else io.stdout(formatBreakGlassReport(rows, describeRange(command)));
      return 0;
    }
    for await (const entry of exportAudit(redis, keys, command)) {
      io.stdout(`${JSON.stringify(auditLine(entry.event, entry))}\n`);
    }
    return 0;
  } finally {
    redis.disconnect();
  }
}

function describeRange({ sinceMs, untilMs }: ExportRange): string {
  const since = sinceMs !== undefined ? `since ${new Date(sinceMs).toISOString()}` : 'since the log began';
  return untilMs !== undefined ? `${since}, until ${new Date(untilMs).toISOString()}` : since;
}

/** A Redis URL to print: its password (`redis://:secret@host`) stays out of the terminal. */
function withoutCredentials(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}

runWhenEntry(import.meta.url, run);
