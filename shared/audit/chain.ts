import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { unavailable } from '../errors.js';
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

export interface AuditEntry {
  id: string;
  event: AuditEvent;
  prev: string;
  hash: string;
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
  redis: Redis,
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
export async function verifyAudit(redis: Redis, keys: RedisKeys): Promise<VerifyResult> {
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

/** Events at or after `sinceMs`, oldest first, each with its stream id and hashes. */
export async function* exportAudit(redis: Redis, keys: RedisKeys, sinceMs = 0): AsyncGenerator<AuditEntry> {
  // Stream ids start with the time in ms at which Redis appended them.
  for await (const { id, fields } of readAudit(redis, keys, sinceMs > 0 ? `${sinceMs}-0` : '-')) {
    const event = AuditEvent.safeParse(JSON.parse(fields.e ?? 'null'));
    if (!event.success) continue;
    yield { id, event: event.data, prev: fields.p ?? '', hash: fields.h ?? '' };
  }
}
