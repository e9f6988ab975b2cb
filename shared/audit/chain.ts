import { createHash } from 'node:crypto';
import { z } from 'zod';
import { unavailable } from '../errors.js';
import type { RedisClient } from '../redis/connect.js';
import type { RedisKeys } from '../redis/keys.js';

/**
 * The audit log is a Redis Stream in which each entry holds the event (`e`, JSON), the previous
 * entry's hash (`p`) and its own hash (`h` = SHA-1 of `p` + newline + `e`, as computed inside Redis
 * by the same script that made the change). Editing, deleting or reordering an entry breaks the chain
 * at that point; `verifyAudit` finds the first such place.
 *
 * The appending side is `shared/grants/lua/includes/audit-chain.lua`, included by every script that
 * audits; each such script is given the stream (`keys.auditStream`) and the chain's head
 * (`keys.auditHead`) as its KEYS[1] and KEYS[2], like every other key it touches.
 */
export const AuditEvent = z
  .object({
    type: z.string(),
    at: z.number(),
    actor: z.string().optional(),
    subject: z.string().optional(),
    resource: z.string().optional(),
    requestId: z.string().optional(),
    grantId: z.string().optional(),
    reason: z.string().optional(),
  })
  .loose();
export type AuditEvent = z.infer<typeof AuditEvent>;

/** Where an event sits in the chain: its stream id, the hash before it and its own. */
export interface AuditLink {
  id: string;
  prev: string;
  hash: string;
}

export interface AuditEntry extends AuditLink {
  event: AuditEvent;
}

/**
 * The one line shape for a SIEM, the same in `npm run audit -- export` and in the JSON log: the
 * stream id, the time as ISO 8601 beside the epoch (`at`, ms), the event's fields, then the chain's
 * hashes (so that a copy can be checked against the chain).
 *
 * Each field keeps one type in every event. Redis's Lua JSON encoder writes an empty list as `{}`;
 * no event has object-valued fields, so an empty object is written as the empty list it was.
 *
 * @example auditLine({ type: 'grant.issued', at: 0, approvers: {} }, link) // { …, approvers: [] }
 */
export function auditLine(event: Record<string, unknown>, link: AuditLink): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(event)) fields[name] = isEmptyObject(value) ? [] : value;
  const at = typeof event.at === 'number' ? event.at : Number(link.id.split('-')[0]);
  return { id: link.id, time: new Date(at).toISOString(), ...fields, at, prev: link.prev, hash: link.hash };
}

function isEmptyObject(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
  );
}

export type VerifyResult =
  | { ok: true; entries: number; head: string }
  | { ok: false; entries: number; brokenAt: string; problem: string };

const GENESIS = 'genesis';
const PAGE = 1000;

export function chainHash(prev: string, eventJson: string): string {
  return createHash('sha1').update(`${prev}\n${eventJson}`).digest('hex');
}

/** Reads the stream page by page, oldest first, from `startId` (inclusive). */
export async function* readAudit(
  redis: RedisClient,
  keys: RedisKeys,
  startId = '-',
): AsyncGenerator<{ id: string; fields: Record<string, string> }> {
  let start = startId;
  for (;;) {
    let page: [string, string[]][];
    try {
      page = (await redis.xrange(keys.auditStream, start, '+', 'COUNT', PAGE)) as [string, string[]][];
    } catch (err) {
      throw unavailable(err);
    }
    for (const [id, flat] of page) {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
      yield { id, fields };
    }
    if (page.length < PAGE) return;
    start = `(${page[page.length - 1]![0]}`;
  }
}

/**
 * Checks the whole chain: each entry's `prev` is the hash before it, its hash is right, and the
 * last hash is the recorded head (so a truncated tail is found too).
 *
 * @example const result = await verifyAudit(redis, keys); if (!result.ok) console.error(result.problem);
 */
export async function verifyAudit(redis: RedisClient, keys: RedisKeys): Promise<VerifyResult> {
  let expectedPrev = GENESIS;
  let entries = 0;
  for await (const { id, fields } of readAudit(redis, keys)) {
    const { e, p, h } = fields;
    if (e === undefined || p === undefined || h === undefined) {
      return { ok: false, entries, brokenAt: id, problem: `entry ${id} is missing its event or hashes` };
    }
    if (p !== expectedPrev) {
      return {
        ok: false,
        entries,
        brokenAt: id,
        problem: `entry ${id} does not follow the entry before it (an event before it was removed or changed)`,
      };
    }
    if (chainHash(p, e) !== h) {
      return {
        ok: false,
        entries,
        brokenAt: id,
        problem: `entry ${id} was altered: its content does not match its hash`,
      };
    }
    expectedPrev = h;
    entries += 1;
  }
  let head: string | null;
  try {
    head = await redis.get(keys.auditHead);
  } catch (err) {
    throw unavailable(err);
  }
  if ((head ?? GENESIS) !== expectedPrev) {
    return {
      ok: false,
      entries,
      brokenAt: 'end',
      problem: 'the last entries are missing: the chain ends before its recorded head',
    };
  }
  return { ok: true, entries, head: expectedPrev };
}

/** Which part of the stream to export; every bound is optional. */
export interface ExportRange {
  /** Events whose time (`at`) is at or after this (ms since the epoch). */
  sinceMs?: number;
  /** Events whose time (`at`) is before this (ms since the epoch). */
  untilMs?: number;
  /** Events after this stream id: the `id` of the last line of an earlier export, to resume it. */
  after?: string;
}

/**
 * How far an event's time (`at`, the clock of the process that made the change) may be from its
 * stream id's (Redis's clock): the time bounds scan this much wider and then compare `at` itself.
 */
const CLOCK_SKEW_MS = 5 * 60_000;

/** A stream id as Redis writes them (`<ms>-<seq>`), for a resume cursor given by a person. */
export const STREAM_ID = /^[0-9]{1,16}-[0-9]{1,16}$/;

/**
 * Events in the range, oldest first, each with its stream id and hashes. Stream ids start with the
 * time in ms at which Redis appended them, so the scan starts and stops there (with room for the
 * two clocks to differ) and the bounds are then checked on each event's own time, the `time` its
 * line shows.
 *
 * @example for await (const e of exportAudit(redis, keys, { after: lastId })) archive(auditLine(e.event, e));
 */
export async function* exportAudit(
  redis: RedisClient,
  keys: RedisKeys,
  range: ExportRange = {},
): AsyncGenerator<AuditEntry> {
  const { sinceMs, untilMs, after } = range;
  if (after !== undefined && !STREAM_ID.test(after)) throw new Error(`not a stream id: ${after}`);
  const start =
    after !== undefined
      ? `(${after}`
      : sinceMs !== undefined && sinceMs > CLOCK_SKEW_MS
        ? `${sinceMs - CLOCK_SKEW_MS}-0`
        : '-';
  for await (const { id, fields } of readAudit(redis, keys, start)) {
    if (untilMs !== undefined && Number(id.split('-')[0]) >= untilMs + CLOCK_SKEW_MS) return;
    const event = AuditEvent.safeParse(JSON.parse(fields.e ?? 'null'));
    if (!event.success) continue;
    if (sinceMs !== undefined && event.data.at < sinceMs) continue;
    if (untilMs !== undefined && event.data.at >= untilMs) continue;
    yield { id, event: event.data, prev: fields.p ?? '', hash: fields.h ?? '' };
  }
}
