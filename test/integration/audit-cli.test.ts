import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../scripts/audit.js';
import { addRefusalCounts, minuteOf } from '../../shared/audit/refusal-counts.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import { runCli, spawnCli } from '../support/cli.js';
import { type TestRedis, testRedis } from '../support/redis.js';

/** `npm run audit -- <args>`, run in this process: what it printed and its exit code. */
const audit = (args: string[], env: Record<string, string>) => runCli(run, args, env);

describe('npm run audit', () => {
  let t: TestRedis;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await testRedis();
    env = { JITGATE_REDIS_PREFIX: t.prefix };
    const store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
    await store.transitions.appendAudit({
      type: 'access.denied',
      actor: 'U0ALICE',
      resource: 'grafana',
      reason: 'token_missing',
    });
    await store.transitions.appendAudit({
      type: 'access.denied',
      actor: 'U0BOB',
      resource: 'grafana',
      reason: 'token_expired',
    });
  });
  afterAll(async () => t.cleanup());

  it('when started as npm run audit starts it, then it reads the environment, exits 0 and leaves', async () => {
    const r = await spawnCli('audit', ['verify'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('intact: 2 events');
  }, 120_000); // Node and tsx start in a process of their own, slow on a busy machine

  it('when the chain is intact, then verify exits 0 and says how many events', async () => {
    const r = await audit(['verify'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('intact: 2 events');
  });

  it('when exporting, then each event is one JSON line', async () => {
    const r = await audit(['export', '--since', '1h'], env);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.actor)).toEqual(['U0ALICE', 'U0BOB']);
    expect(lines[1].prev).toBe(lines[0].hash);
  });

  it('when exporting, then each line has its id, an ISO time beside the epoch and its hashes', async () => {
    const r = await audit(['export'], env);
    const [line] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(Object.keys(line).slice(0, 2)).toEqual(['id', 'time']);
    expect(new Date(line.time).getTime()).toBe(line.at);
    expect(line.hash).toMatch(/^[0-9a-f]{40}$/);
  });

  it('when an export resumes with --after the last id, then it prints only what came after', async () => {
    const all = (await audit(['export'], env)).stdout.trim().split('\n');
    const first = JSON.parse(all[0]!);
    const rest = await audit(['export', '--after', first.id], env);
    expect(rest.code).toBe(0);
    expect(rest.stdout.trim().split('\n')).toEqual(all.slice(1));
  });

  it('when --since and --until are ISO 8601 times, then only events between them come out', async () => {
    const lines = (await audit(['export'], env)).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const until = new Date(lines[0].at + 1).toISOString();
    const inside = await audit(['export', '--since', lines[0].time, '--until', until], env);
    expect(inside.code).toBe(0);
    const out = inside.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out.map((l) => l.id)).toContain(lines[0].id);
    // Both bounds are kept: from the first event's millisecond up to, not including, the next one.
    expect(out.map((l) => l.id)).toEqual(lines.filter((l) => l.at === lines[0].at).map((l) => l.id));
    const none = await audit(['export', '--until', '2001-01-01T00:00:00Z'], env);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
  });

  it('when the prefix holds no events at all, then verify says so and exits 4, not "intact"', async () => {
    const r = await audit(['verify'], { ...env, JITGATE_REDIS_PREFIX: `${t.prefix}-nothing-here` });
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('no audit events under the prefix');
    expect(r.stdout).toContain('JITGATE_REDIS_PREFIX');
    expect(r.stdout).not.toContain('intact');
  });

  it('when a Redis URL carries a password, then no message prints it', async () => {
    const r = await audit(['verify'], {
      ...env,
      REDIS_URL: 'redis://:s3cret-placeholder@127.0.0.1:1',
      REDIS_CLUSTER_NODES: '',
    });
    expect(r.code).toBe(3);
    expect(r.stderr).not.toContain('s3cret-placeholder');
  });

  it('when an export range is wrong, then it exits 2 and says which flag and how to write it', async () => {
    const cases: [string[], string][] = [
      [['export', '--after', 'last-time'], 'not an audit id'],
      [['export', '--until', 'tomorrow'], 'ISO 8601 time'],
      [['export', '--since', '2026-13-45'], '--since 2026-13-45'],
      [['export', '--since', '1h', '--since', '2h'], 'given twice'],
      [['export', '--since'], 'needs a value'],
      [['export', '--since', '1h', '--until', '2h'], '--until must be later than --since'],
      [['export', '--follow'], 'unexpected argument'],
    ];
    for (const [args, says] of cases) {
      const r = await audit(args, env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(says);
      expect(r.stderr).toContain('usage: npm run audit');
    }
  });

  it('when asked for refusals, then each counted minute, resource and code is one JSON line', async () => {
    const now = Date.now();
    await addRefusalCounts(t.redis, t.keys, [
      { minute: minuteOf(now), resource: 'grafana', reason: 'token_missing', count: 1200 },
      { minute: minuteOf(now), resource: '', reason: 'no_such_resource', count: 7 },
      { minute: minuteOf(now - 3 * 3_600_000), resource: 'grafana', reason: 'token_invalid', count: 5 },
    ]);
    const r = await audit(['refusals', '--since', '1h'], env);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const minute = new Date(minuteOf(now)).toISOString();
    expect(lines).toEqual([
      { type: 'access.refused', minute, resource: '', reason: 'no_such_resource', count: 7 },
      { type: 'access.refused', minute, resource: 'grafana', reason: 'token_missing', count: 1200 },
    ]);
    expect((await audit(['refusals'], env)).stdout.trim().split('\n')).toHaveLength(3);
    const bad = await audit(['refusals', '--until', '1h'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('npm run audit -- refusals');
  });

  it('when the usage is wrong, then it exits 2 with the usage', async () => {
    const r = await audit(['frobnicate'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: npm run audit');
    const bad = await audit(['export', '--since', 'yesterday'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a duration');
  });

  it('when Redis is unreachable, then it exits 3 and says so', async () => {
    const r = await audit(['verify'], { ...env, REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLUSTER_NODES: '' });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cannot reach Redis');
  });

  it('when the chain is broken, then verify exits 1 and names the place', async () => {
    const [first] = await t.redis.xrange(t.keys.auditStream, '-', '+');
    await t.redis.xdel(t.keys.auditStream, first![0]);
    const r = await audit(['verify'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('BROKEN');
  });
});
