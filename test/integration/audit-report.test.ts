import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../scripts/audit.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore, grantIdOf } from '../../shared/grants/store.js';
import type { SlackUserId } from '../../shared/ids.js';
import { runCli } from '../support/cli.js';
import { type TestRedis, testRedis } from '../support/redis.js';
import { newRequestInput } from '../support/requests.js';

const audit = (args: string[], env: Record<string, string>) => runCli(run, args, env);
const u = (s: string) => s as SlackUserId;

describe('npm run audit -- report --break-glass', () => {
  let t: TestRedis;
  let env: Record<string, string>;
  const ids: Record<'flagged' | 'justified' | 'open' | 'normal', string> = {
    flagged: '',
    justified: '',
    open: '',
    normal: '',
  };

  beforeAll(async () => {
    t = await testRedis();
    env = { JITGATE_REDIS_PREFIX: t.prefix };
    const store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
    for (const [name, holder] of [
      ['flagged', 'U0HAL'],
      ['justified', 'U0GINA'],
      ['open', 'U0IDA'],
    ] as const) {
      const req = newRequestInput({
        requester: u(holder),
        resource: 'admin-api',
        breakGlass: true,
        reason: `outage ${name}`,
      });
      await store.transitions.createRequest(req, holder);
      ids[name] = grantIdOf(req.id);
    }
    await store.transitions.review(ids.flagged as never, u('U0SRE1'), 'flagged', 'no incident on record');
    await store.transitions.review(ids.justified as never, u('U0SRE2'), 'justified');
    await store.transitions.revoke(ids.open as never, u('U0SRE1'), 'done');
    const normal = newRequestInput();
    await store.transitions.createRequest(normal, 'jitgate');
    ids.normal = grantIdOf(normal.id);
  });
  afterAll(async () => t.cleanup());

  it('when asked, then each break-glass grant is listed with its review state, and nothing else', async () => {
    const r = await audit(['report', '--break-glass'], env);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('break-glass grants since the log began: 3 (1 unreviewed, 1 justified, 1 flagged)');
    expect(lines.find((l) => l.includes(ids.flagged))).toMatch(
      /U0HAL {2}admin-api\/viewer {2}"outage flagged" {2}FLAGGED by U0SRE1 at \S+: no incident on record$/,
    );
    expect(lines.find((l) => l.includes(ids.justified))).toMatch(/JUSTIFIED by U0SRE2 at \S+$/);
    expect(lines.find((l) => l.includes(ids.open))).toMatch(/\(revoked\) {2}"outage open" {2}UNREVIEWED$/);
    expect(r.stdout).not.toContain(ids.normal);
  });

  it('when asked for JSON, then each grant is one line with the same facts', async () => {
    const r = await audit(['report', '--break-glass', '--json'], env);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((row) => [row.grantId, row.review?.verdict ?? null])).toEqual([
      [ids.flagged, 'flagged'],
      [ids.justified, 'justified'],
      [ids.open, null],
    ]);
    expect(rows[0]).toMatchObject({
      holder: 'U0HAL',
      resource: 'admin-api',
      review: { by: 'U0SRE1', note: 'no incident on record' },
    });
    expect(rows[2].ended).toBe('revoked');
  });

  it('when the range holds none, then it says 0, and bad usage exits 2 with the usage', async () => {
    const none = await audit(['report', '--break-glass', '--until', '2001-01-01T00:00:00Z'], env);
    expect(none.stdout).toContain(
      'break-glass grants since the log began, until 2001-01-01T00:00:00.000Z: 0 (0 unreviewed',
    );
    for (const [args, says] of [
      [['report'], 'report needs what to report on'],
      [['report', '--break-glass', '--after', '1-0'], 'report reads whole ranges'],
      [['report', '--break-glass', '--since', 'last week'], 'not a duration'],
    ] as const) {
      const r = await audit([...args], env);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(says);
      expect(r.stderr).toContain('report --break-glass');
    }
  });
});
