import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../scripts/audit.js';
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

  it('when the usage is wrong, then it exits 2 with the usage', async () => {
    const r = await audit(['frobnicate'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('usage: npm run audit');
    const bad = await audit(['export', '--since', 'yesterday'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a duration');
  });

  it('when Redis is unreachable, then it exits 3 and says so', async () => {
    const r = await audit(['verify'], { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
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
