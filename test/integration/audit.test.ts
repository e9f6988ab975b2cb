import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuditLink, auditLine, exportAudit, verifyAudit } from '../../shared/audit/chain.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore, grantIdOf } from '../../shared/grants/store.js';
import { newRequestId, type RequestId, type SlackUserId } from '../../shared/ids.js';
import { type TestRedis, testRedis } from '../support/redis.js';

const ALICE = 'U0ALICE' as SlackUserId;
const BOB = 'U0BOB' as SlackUserId;

describe('the hash-chained audit log', () => {
  let t: TestRedis;
  let store: AccessStore;
  let ids: string[];

  beforeEach(async () => {
    t = await testRedis();
    store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
    const id = newRequestId();
    await store.transitions.createRequest({
      id,
      kind: 'access',
      requester: ALICE,
      email: 'alice@example.com',
      resource: 'grafana',
      role: 'viewer',
      durationMs: 60_000,
      reason: 'INC-7',
      breakGlass: false,
      approvalsRequired: 1,
      selfApproval: false,
      pendingTimeoutMs: 60_000,
    });
    await store.transitions.approve(id, BOB);
    await store.transitions.revoke(grantIdOf(id), BOB, 'done');
    await store.transitions.appendAudit({
      type: 'access.denied',
      actor: ALICE,
      resource: 'grafana',
      reason: 'token_missing',
    });
    ids = (await t.redis.xrange(t.keys.auditStream, '-', '+')).map(([id]) => id);
  });
  afterEach(async () => t.cleanup());

  /** The time an entry's event carries (`at`), which the export's bounds compare. */
  const atOf = async (id: string): Promise<number> => {
    const [entry] = (await t.redis.xrange(t.keys.auditStream, id, id)) as [string, string[]][];
    const fields = entry![1];
    return JSON.parse(fields[fields.indexOf('e') + 1]!).at;
  };

  it('when nothing was touched, then the chain verifies and lists every transition in order', async () => {
    const result = await verifyAudit(t.redis, t.keys);
    expect(result).toEqual({ ok: true, entries: 5, head: expect.any(String) });
    const types: string[] = [];
    for await (const entry of exportAudit(t.redis, t.keys)) types.push(entry.event.type);
    expect(types).toEqual([
      'request.created',
      'request.approved',
      'grant.issued',
      'grant.revoked',
      'access.denied',
    ]);
  });

  it('when an event in the middle is deleted, then verify reports the entry after it', async () => {
    await t.redis.xdel(t.keys.auditStream, ids[2]!);
    const result = await verifyAudit(t.redis, t.keys);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.brokenAt).toBe(ids[3]);
      expect(result.entries).toBe(2);
    }
  });

  it('when an event is altered in place, then verify reports that very entry', async () => {
    const entries = await t.redis.xrange(t.keys.auditStream, '-', '+');
    await t.redis.del(t.keys.auditStream);
    for (const [id, flat] of entries) {
      const fields = [...flat];
      if (id === ids[1]) fields[1] = fields[1]!.replace('U0BOB', 'U0MALLORY');
      await t.redis.xadd(t.keys.auditStream, id, ...fields);
    }
    const result = await verifyAudit(t.redis, t.keys);
    expect(result).toMatchObject({ ok: false, brokenAt: ids[1], entries: 1 });
    if (!result.ok) expect(result.problem).toContain('altered');
  });

  it('when the last event is removed, then verify reports the missing tail', async () => {
    await t.redis.xdel(t.keys.auditStream, ids.at(-1)!);
    const result = await verifyAudit(t.redis, t.keys);
    expect(result).toMatchObject({ ok: false, brokenAt: 'end' });
  });

  it('when exporting since a time, then only later events come out', async () => {
    const since = await atOf(ids[3]!);
    const out: string[] = [];
    for await (const entry of exportAudit(t.redis, t.keys, { sinceMs: since })) out.push(entry.id);
    expect(out).toContain(ids[3]);
    expect(out).toContain(ids[4]);
    expect(out).not.toContain(ids[0]);
  });

  it('when exporting up to a time, then later events stay out', async () => {
    const until = await atOf(ids[3]!);
    const out: string[] = [];
    for await (const entry of exportAudit(t.redis, t.keys, { untilMs: until })) out.push(entry.id);
    const before: string[] = [];
    for (const id of ids) if ((await atOf(id)) < until) before.push(id);
    expect(out).toEqual(before);
    expect(out).not.toContain(ids[3]);
  });

  it('when an export resumes after the id of its last line, then together they are the whole log once', async () => {
    const first: string[] = [];
    for await (const entry of exportAudit(t.redis, t.keys, { untilMs: (await atOf(ids[2]!)) + 1 })) {
      first.push(entry.id);
    }
    const rest: string[] = [];
    for await (const entry of exportAudit(t.redis, t.keys, { after: first.at(-1)! })) rest.push(entry.id);
    expect([...first, ...rest]).toEqual(ids);
  });
});

describe('the audit lines a SIEM takes', () => {
  let t: TestRedis;
  let logged: Record<string, unknown>[];
  let store: AccessStore;

  beforeEach(async () => {
    t = await testRedis();
    logged = [];
    store = new AccessStore(t.redis, {
      prefix: t.prefix,
      clock: systemClock,
      auditSink: (event: Record<string, unknown>, link: AuditLink) => logged.push(auditLine(event, link)),
    });
  });
  afterEach(async () => t.cleanup());

  const request = (id: RequestId, breakGlass: boolean) => ({
    id,
    kind: 'access' as const,
    requester: ALICE,
    email: 'alice@example.com',
    resource: 'grafana',
    role: 'viewer',
    durationMs: 60_000,
    reason: 'INC-7',
    breakGlass,
    approvalsRequired: 1,
    selfApproval: false,
    pendingTimeoutMs: 60_000,
  });

  async function everyKindOfEvent(): Promise<void> {
    const approved = newRequestId();
    await store.transitions.createRequest(request(approved, false));
    await store.transitions.approve(approved, BOB);
    await store.transitions.revoke(grantIdOf(approved), BOB, 'done');
    // Granted at once: nobody approved it, so its list of approvers is empty.
    const broken = newRequestId();
    await store.transitions.createRequest(request(broken, true), ALICE);
    const denied = newRequestId();
    await store.transitions.createRequest(request(denied, false));
    await store.transitions.deny(denied, BOB, 'not now');
    await store.transitions.appendAudit({
      type: 'access.denied',
      actor: 'anonymous',
      reason: 'token_missing',
    });
  }

  async function exported(): Promise<Record<string, unknown>[]> {
    const lines: Record<string, unknown>[] = [];
    for await (const entry of exportAudit(t.redis, t.keys)) lines.push(auditLine(entry.event, entry));
    return lines;
  }

  it('when events of every kind are written, then each field has one JSON type in all of them', async () => {
    await everyKindOfEvent();
    const lines = await exported();
    const types = new Map<string, Set<string>>();
    for (const line of lines) {
      for (const [name, value] of Object.entries(line)) {
        const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
        types.set(name, (types.get(name) ?? new Set()).add(type));
      }
    }
    const mixed = [...types]
      .filter(([, seen]) => seen.size > 1)
      .map(([name, seen]) => `${name}: ${[...seen]}`);
    expect(mixed).toEqual([]);
    const issued = lines.filter((l) => l.type === 'grant.issued');
    expect(issued.map((l) => l.approvers)).toEqual([[BOB], []]);
  });

  it('when an event is exported, then it carries its time as ISO 8601 beside the epoch', async () => {
    await everyKindOfEvent();
    for (const line of await exported()) {
      expect(line.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(Date.parse(String(line.time))).toBe(line.at);
    }
  });

  it('when the log and the export are compared, then they are the same lines, hashes included', async () => {
    await everyKindOfEvent();
    const lines = await exported();
    expect(logged).toEqual(lines);
    // A SIEM's copy checks against the chain: each line's hash follows the one before it.
    for (let i = 1; i < logged.length; i += 1) expect(logged[i]!.prev).toBe(logged[i - 1]!.hash);
    expect(await t.redis.get(t.keys.auditHead)).toBe(logged.at(-1)!.hash);
  });
});
