import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../shared/audit/chain.js';
import { systemClock } from '../../shared/clock.js';
import { readScript, SCRIPT_NAMES, SCRIPTS, type ScriptName } from '../../shared/grants/lua/load.js';
import { AccessStore, grantIdOf, type NewRequest } from '../../shared/grants/store.js';
import type { SlackUserId } from '../../shared/ids.js';
import type { RedisClient } from '../../shared/redis/connect.js';
import { codeOf as codeOrOk } from '../support/outcomes.js';
import { serverUrlFor, type TestRedis, testRedis } from '../support/redis.js';
import { monitorRedis } from '../support/redis-monitor.js';
import { newRequestInput } from '../support/requests.js';

const ALICE = 'U0ALICE' as SlackUserId;
const BOB = 'U0BOB' as SlackUserId;
const CAROL = 'U0CAROL' as SlackUserId;
const LUA_DIR = new URL('../../shared/grants/lua/', import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The refusal's code, or 'none' when it went through. */
const codeOf = (p: Promise<unknown>) => codeOrOk(p, 'none');

/** One script run as Redis saw it: the keys it was given, and every command it ran. */
interface Run {
  script: ScriptName | 'unknown';
  declared: string[];
  commands: string[][];
}

/**
 * Watches Redis with MONITOR and groups what our prefix's scripts ran: Redis logs an EVALSHA before
 * the commands its script runs, and nothing else runs until the script ends. `prefix` is the hash-tagged
 * one (`keys.prefix`).
 */
async function watchScripts(prefix: string) {
  const bySha = new Map(SCRIPT_NAMES.map((name) => [sha1(SCRIPTS[name]), name]));
  // ioredis sends a script's source (EVAL) the first time on a connection; MONITOR shows it escaped.
  const opening = (name: ScriptName) => SCRIPTS[name].slice(0, 60).replaceAll('\n', '\\n');
  const bySource = (source: string) => SCRIPT_NAMES.find((name) => source.startsWith(opening(name)));
  const runs: Run[] = [];
  let current: Run | undefined;
  const seen = new Set<string>();
  const monitor = await monitorRedis(await serverUrlFor(prefix), ({ source, args }) => {
    if (source === 'lua') {
      current?.commands.push(args);
      return;
    }
    current = undefined;
    if (args[1]?.startsWith(`${prefix}:end`)) seen.add(args[1]);
    const name = args[0]?.toLowerCase();
    if (name !== 'evalsha' && name !== 'eval') return;
    const declared = args.slice(3, 3 + Number(args[2]));
    if (!declared.some((k) => k.startsWith(`${prefix}:`))) return; // another test's script
    const script = name === 'evalsha' ? bySha.get(args[1]!) : bySource(args[1]!);
    current = { script: script ?? 'unknown', declared, commands: [] };
    runs.push(current);
  });
  return {
    runs,
    /** Waits until MONITOR has passed everything sent so far on `redis`, then stops watching. */
    async stop(redis: RedisClient) {
      const marker = `${prefix}:end:${Date.now()}`;
      await redis.get(marker);
      for (let i = 0; i < 200 && !seen.has(marker); i++) await sleep(10);
      monitor.close();
    },
  };
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** Drives every script through its branches (all of them refused or allowed as the store tests say). */
async function everyBranch(store: AccessStore) {
  const req = (o: Partial<NewRequest> = {}) => newRequestInput(o);
  // create-request (pending), approve-request (pending, already_approved, granted), record-use, redeem-code.
  const a = req({ approvalsRequired: 2 });
  await store.transitions.createRequest(a);
  expect(await codeOf(store.transitions.approve(a.id, ALICE))).toBe('self_approval');
  await store.transitions.approve(a.id, BOB);
  await store.transitions.approve(a.id, BOB);
  expect((await store.transitions.approve(a.id, CAROL)).decision.outcome).toBe('granted');
  const gid = grantIdOf(a.id);
  expect(await store.transitions.recordUse(gid, 1)).toBe('first');
  expect(await store.transitions.recordUse(gid, 2)).toBe('counted');
  // person-access: the holder's grants for the resource by Slack user id and by e-mail, with a logout marker.
  const bySlack = await store.queries.personAccess(
    'grafana',
    { kind: 'slack', user: ALICE, team: 'T0ACME' },
    'sid',
  );
  expect(bySlack.grants.map((g) => g.id)).toEqual([gid]);
  const byEmail = await store.queries.personAccess(
    'grafana',
    { kind: 'email', email: 'alice@example.com' },
    'sid',
  );
  expect(byEmail).toEqual(bySlack);
  const code = await store.codes.createRedeemCode(gid);
  expect(await store.codes.redeem(code)).toBe(gid);
  expect(await codeOf(store.codes.redeem(code))).toBe('code_used');
  // Extensions: approved, auto-approved, and one whose grant ended while it waited.
  const ext = req({ kind: 'extension', extendsGrant: gid });
  await store.transitions.createRequest(ext);
  expect((await store.transitions.approve(ext.id, BOB)).decision.outcome).toBe('granted');
  expect(
    (await store.transitions.createRequest(req({ kind: 'extension', extendsGrant: gid }), 'jitgate')).decision
      .outcome,
  ).toBe('granted');
  const late = req({ kind: 'extension', extendsGrant: gid });
  await store.transitions.createRequest(late);
  const stale = await store.codes.createRedeemCode(gid);
  // revoke-grant: revoked, already revoked; then the waiting extension and the code find it ended.
  expect((await store.transitions.revoke(gid, BOB, 'done')).outcome).toBe('revoked');
  expect((await store.transitions.revoke(gid, BOB)).outcome).toBe('already_revoked');
  expect(await codeOf(store.transitions.approve(late.id, BOB))).toBe('grant_not_active');
  expect(await codeOf(store.codes.redeem(stale))).toBe('grant_not_active');
  expect(
    await codeOf(store.transitions.createRequest(req({ kind: 'extension', extendsGrant: gid }), 'jitgate')),
  ).toBe('grant_not_active');
  const ended = await store.transitions.expireGrant(a.id, gid);
  expect(ended.outcome).toBe('noop');
  expect(ended.expiresAt).toBeUndefined();
  // deny-or-cancel-request: denied, cancelled, refused; expire-request: noop and expired, also on approve.
  const d = req();
  await store.transitions.createRequest(d);
  await store.transitions.deny(d.id, BOB, 'no');
  expect(await codeOf(store.transitions.deny(d.id, BOB))).toBe('request_not_pending');
  const c = req();
  await store.transitions.createRequest(c);
  expect(await codeOf(store.transitions.cancel(c.id, BOB))).toBe('not_allowed_to_cancel');
  await store.transitions.cancel(c.id, ALICE);
  // Nothing here depends on timing: what should be late is due at once, what should not has a minute.
  const fresh = req();
  await store.transitions.createRequest(fresh);
  expect((await store.transitions.expireRequest(fresh.id)).expired).toBe(false);
  const overdue = [req({ pendingTimeoutMs: 1 }), req({ pendingTimeoutMs: 1 }), req({ pendingTimeoutMs: 1 })];
  for (const s of overdue) await store.transitions.createRequest(s);
  // expire-grant: not yet (a minute left), expired (a 1 ms grant), then nothing left to do.
  const long = req();
  await store.transitions.createRequest(long, 'jitgate');
  expect((await store.transitions.expireGrant(long.id, grantIdOf(long.id))).outcome).toBe('not_yet');
  const short = req({ durationMs: 1 });
  await store.transitions.createRequest(short, 'jitgate');
  await sleep(20);
  expect((await store.transitions.expireRequest(overdue[0]!.id)).expired).toBe(true);
  expect(await codeOf(store.transitions.approve(overdue[1]!.id, BOB))).toBe('request_not_pending');
  expect(await codeOf(store.transitions.cancel(overdue[2]!.id, ALICE))).toBe('request_not_pending');
  const expired = await store.transitions.expireGrant(short.id, grantIdOf(short.id));
  expect(expired.outcome).toBe('expired');
  expect(expired.expiresAt).toBeUndefined();
  const twice = await store.transitions.expireGrant(short.id, grantIdOf(short.id));
  expect(twice.outcome).toBe('noop');
  expect(twice.expiresAt).toBeUndefined();
  expect(await store.transitions.recordUse(grantIdOf(short.id), 1)).toBe('gone');
  // escalate-request: escalated, already escalated, not escalating (none named), decided, late.
  const up = req({ escalateTo: { users: [CAROL], usergroups: ['S0LEADS'] } });
  await store.transitions.createRequest(up);
  expect((await store.transitions.escalate(up.id)).outcome).toBe('escalated');
  expect((await store.transitions.escalate(up.id)).outcome).toBe('already_escalated');
  expect((await store.transitions.escalate(fresh.id)).outcome).toBe('noop');
  expect((await store.transitions.escalate(d.id)).outcome).toBe('noop');
  expect((await store.transitions.escalate(overdue[1]!.id)).outcome).toBe('noop');
  // review-grant: reviewed, already reviewed, by the holder, not break-glass, no such grant.
  const glass = req({ breakGlass: true });
  await store.transitions.createRequest(glass, glass.requester);
  expect(await codeOf(store.transitions.review(grantIdOf(glass.id), glass.requester, 'justified'))).toBe(
    'not_allowed_to_review',
  );
  expect((await store.transitions.review(grantIdOf(glass.id), BOB, 'flagged', 'why?')).outcome).toBe(
    'reviewed',
  );
  expect((await store.transitions.review(grantIdOf(glass.id), CAROL, 'justified')).outcome).toBe(
    'already_reviewed',
  );
  expect(await codeOf(store.transitions.review(grantIdOf(long.id), BOB, 'justified'))).toBe(
    'not_break_glass',
  );
  expect(await codeOf(store.transitions.review(grantIdOf(fresh.id), BOB, 'justified'))).toBe('no_such_grant');
  // append-audit.
  await store.transitions.appendAudit({ type: 'access.denied', actor: ALICE, reason: 'token_missing' });
  // read-request: a request and its approvals, and one that does not exist.
  expect((await store.queries.getRequest(short.id))?.id).toBe(short.id);
  expect(await store.queries.getRequest(newRequestInput().id)).toBeUndefined();
  // audit-grant-refusal: within the grant's allowance, then past it.
  const denied = { type: 'access.denied', actor: ALICE, reason: 'grant_revoked' };
  const limit = { perWindow: 1, windowMs: 60_000 };
  expect(await store.transitions.auditGrantRefusal(grantIdOf(short.id), denied, limit)).toBe(true);
  expect(await store.transitions.auditGrantRefusal(grantIdOf(short.id), denied, limit)).toBe(false);
}

describe('the Lua scripts against real Redis', () => {
  let t: TestRedis;
  let store: AccessStore;
  beforeEach(async () => {
    t = await testRedis();
    store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
  });
  afterEach(async () => t.cleanup());

  it('when every script runs through its branches, then every key it touches is one it was given in KEYS', async () => {
    const watch = await watchScripts(t.keys.prefix);
    await everyBranch(store);
    await watch.stop(t.redis);

    expect(new Set(watch.runs.map((r) => r.script))).toEqual(new Set(SCRIPT_NAMES));
    const undeclared: string[] = [];
    for (const run of watch.runs) {
      for (const [command, key] of run.commands) {
        if (!run.declared.includes(key!)) undeclared.push(`${run.script}: ${command} ${key}`);
      }
    }
    expect(undeclared).toEqual([]);
    // Every declared key is built by redisKeys under this prefix (one hash tag, one Cluster slot).
    const keys = new Set(watch.runs.flatMap((r) => r.declared));
    expect([...keys].filter((k) => !k.startsWith(`${t.keys.prefix}:`))).toEqual([]);
    expect(watch.runs.reduce((n, r) => n + r.commands.length, 0)).toBeGreaterThan(100);
    expect((await verifyAudit(t.redis, t.keys)).ok).toBe(true);
  });

  it('when a transition changes a request or a grant, then it answers the record as Redis now holds it', async () => {
    const { transitions } = store;
    const a = newRequestInput({ approvalsRequired: 2 });
    const filed = await transitions.createRequest(a);
    expect(filed).toEqual({
      decision: { outcome: 'pending', approvals: 0 },
      request: await store.queries.getRequest(a.id),
    });
    expect(filed.request).toMatchObject({ id: a.id, status: 'pending', approvals: [] });
    const once = await transitions.approve(a.id, BOB);
    expect(once).toEqual({
      decision: { outcome: 'pending', approvals: 1 },
      request: await store.queries.getRequest(a.id),
    });
    const granted = await transitions.approve(a.id, CAROL);
    expect(granted.request).toEqual(await store.queries.getRequest(a.id));
    expect(granted.request).toMatchObject({
      status: 'approved',
      grantStatus: 'active',
      approvals: [BOB, CAROL],
    });
    const revoked = await transitions.revoke(grantIdOf(a.id), BOB, 'done');
    // One Redis, no replicas: nothing to wait for, so it counts as replicated.
    expect(revoked).toEqual({
      outcome: 'revoked',
      request: await store.queries.getRequest(a.id),
      replicated: true,
    });
    expect(revoked.request).toMatchObject({ grantStatus: 'revoked', endedBy: BOB });
    expect((await transitions.expireGrant(a.id, grantIdOf(a.id))).request).toEqual(revoked.request);

    const d = newRequestInput();
    await store.transitions.createRequest(d);
    expect(await transitions.deny(d.id, BOB, 'no')).toEqual(await store.queries.getRequest(d.id));
    const fresh = newRequestInput();
    await store.transitions.createRequest(fresh);
    expect(await transitions.expireRequest(fresh.id)).toEqual({
      expired: false,
      request: await store.queries.getRequest(fresh.id),
    });
    const c = newRequestInput({ pendingTimeoutMs: 1 });
    await store.transitions.createRequest(c);
    await sleep(20);
    const expired = await transitions.expireRequest(c.id);
    expect(expired).toEqual({ expired: true, request: await store.queries.getRequest(c.id) });
    expect(expired.request.status).toBe('expired');
    const e = newRequestInput();
    await store.transitions.createRequest(e);
    expect((await transitions.cancel(e.id, ALICE)).status).toBe('cancelled');

    const f = newRequestInput();
    await store.transitions.createRequest(f, 'jitgate');
    const grant = await store.codes.consumeRedeemCode(await store.codes.createRedeemCode(grantIdOf(f.id)));
    expect(grant).toEqual(await store.queries.liveGrant(grantIdOf(f.id)));
    expect(grant).toMatchObject({ id: grantIdOf(f.id), requestId: f.id, status: 'active', user: ALICE });
  });

  it('when a script touches a key it was not given, then Redis refuses the script', async () => {
    const lua = `${readScript('includes/base')}\nreturn rcall('GET', KEYS[1] .. ':other')`;
    await expect(t.redis.eval(lua, 1, t.keys.auditStream, Date.now())).rejects.toThrow(
      /GET on a key the script was not given/,
    );
  });
});

describe('the Lua script files', () => {
  const header = (source: string) => source.slice(0, source.indexOf(']]'));
  const indexes = (text: string, name: 'KEYS' | 'ARGV') =>
    new Set([...text.matchAll(new RegExp(`${name}\\[(\\d+)\\]`, 'g'))].map((m) => Number(m[1])));

  it.each(SCRIPT_NAMES)(
    'when reading %s.lua, then its header lists every KEYS and ARGV its body uses',
    (name) => {
      // A script that must run on a full Redis says so on its first line (allow-oom, no-writes).
      const file = readFileSync(new URL(`${name}.lua`, LUA_DIR), 'utf8').replace(
        /^#!lua flags=[\w,-]+\n/,
        '',
      );
      expect(file.startsWith('--[[')).toBe(true);
      const head = header(file);
      const body = SCRIPTS[name].slice(file.indexOf(']]'));
      for (const kind of ['KEYS', 'ARGV'] as const) {
        const listed = indexes(head, kind);
        for (const i of indexes(body, kind)) expect(listed, `${name}: ${kind}[${i}]`).toContain(i);
      }
      expect(head).toMatch(/Reply: /);
      expect(SCRIPTS[name]).not.toContain('--- @include');
    },
  );

  it('when reading every .lua file, then only the key guard calls redis.call (scripts go through rcall)', () => {
    const files = readdirSync(LUA_DIR, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.lua'),
    );
    expect(files.length).toBeGreaterThan(SCRIPT_NAMES.length);
    const calling = files.filter((f) => /redis\.p?call\(/.test(readFileSync(new URL(f, LUA_DIR), 'utf8')));
    expect(calling).toEqual(['includes/base.lua']);
  });
});
