import { z } from 'zod';
import type { AuditLink } from '../../audit/chain.js';
import { ERROR_CODES, type ErrorCode, errorFor, JitgateError, unavailable } from '../../errors.js';
import type { RedisClient } from '../../redis/connect.js';
import type { RedisKeys } from '../../redis/keys.js';
import { SCRIPTS, type ScriptName } from './load.js';

/**
 * Receives every audit event the store writes, already chained in Redis (for the JSON log / SIEM),
 * with its place in the chain: the stream id and the hashes (see shared/audit/chain.ts).
 */
export type AuditSink = (event: Record<string, unknown>, link: AuditLink) => void;

/** What a script call needs besides its own keys and arguments. */
export interface ScriptContext {
  redis: RedisClient;
  keys: RedisKeys;
  now: () => number;
  sink: AuditSink;
}

/** cjson encodes an empty Lua table as `{}`: an empty list, for the lists in replies. */
export const LuaList = z
  .union([z.array(z.string()), z.object({}).strict()])
  .transform((v): string[] => (Array.isArray(v) ? v : []));

/** One appended entry, as audit-chain.lua reports it. */
const Appended = z
  .string()
  .transform((s) => JSON.parse(s) as unknown)
  .pipe(z.object({ id: z.string(), e: z.string(), p: z.string(), h: z.string() }));

const Envelope = z.looseObject({
  ok: z.boolean(),
  code: z.string().optional(),
  detail: z.string().optional(),
  /** What a refusal's message names (e.g. the pending requests of `too_many_pending`). */
  fields: z.record(z.string(), z.unknown()).optional(),
  events: LuaList,
});

/**
 * The error a refused transition throws: the script's failure code, worded by the catalogue
 * (shared/messages.ts) with its detail (e.g. `grant_not_active` with `revoked`).
 */
export function refusal(code: string, detail?: string, more: Record<string, unknown> = {}): JitgateError {
  const fields = detail === undefined ? { ...more } : { ...more, detail };
  if (isErrorCode(code)) return errorFor(code, fields);
  // A code that ERROR_CODES does not list is a script's bug; say so plainly.
  return new JitgateError('unavailable', 'That could not be done; try again.', { ...fields, script: code });
}

/**
 * Runs one script: KEYS[1] and KEYS[2] are always the audit stream and its head, ARGV[1] the time.
 * The events it appended go to the sink (also when it refused); a refusal throws its code as a
 * JitgateError; a Redis failure throws `unavailable`. Answers the rest of the reply, unparsed.
 */
export async function runScript(
  ctx: ScriptContext,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): Promise<Record<string, unknown>> {
  const command = defineScript(ctx.redis, name);
  let raw: unknown;
  try {
    raw = await command(
      keys.length + 2,
      ctx.keys.auditStream,
      ctx.keys.auditHead,
      ...keys,
      ctx.now(),
      ...args,
    );
  } catch (err) {
    throw unavailable(err);
  }
  const reply = Envelope.parse(JSON.parse(String(raw)));
  for (const raw of reply.events) {
    const entry = Appended.parse(raw);
    ctx.sink(JSON.parse(entry.e) as Record<string, unknown>, { id: entry.id, prev: entry.p, hash: entry.h });
  }
  if (!reply.ok) throw refusal(reply.code ?? 'unavailable', reply.detail, reply.fields);
  return reply;
}

/**
 * Runs a read-only script (no audit, so no audit keys; KEYS are exactly `keys`, ARGV[1] the time)
 * and answers its raw reply. A Redis failure throws `unavailable`. For the authorizer's hot path.
 */
export async function runRead(
  ctx: Pick<ScriptContext, 'redis' | 'now'>,
  name: ScriptName,
  keys: string[],
  args: (string | number)[] = [],
): Promise<unknown> {
  const command = defineScript(ctx.redis, name);
  try {
    return await command(keys.length, ...keys, ctx.now(), ...args);
  } catch (err) {
    throw unavailable(err);
  }
}

const DEFINED = new WeakMap<RedisClient, Set<string>>();
type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

/** Registers a script once per connection; ioredis then sends EVALSHA and falls back to EVAL. */
function defineScript(redis: RedisClient, name: ScriptName): ScriptCall {
  const command = `jitgate_${name.replaceAll('-', '_')}`;
  let defined = DEFINED.get(redis);
  if (!defined) {
    defined = new Set();
    DEFINED.set(redis, defined);
  }
  if (!defined.has(command)) {
    redis.defineCommand(command, { lua: SCRIPTS[name] });
    defined.add(command);
  }
  // biome-ignore lint/suspicious/noExplicitAny: commands added by defineCommand are not in ioredis' types
  return ((redis as any)[command] as ScriptCall).bind(redis);
}

function isErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}
