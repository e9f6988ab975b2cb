import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STORED_TEXT } from '../../shared/audit/bounded.js';
import { GRANT_REFUSALS_AUDITED, readRefusalCounts } from '../../shared/audit/refusal-counts.js';
import { redisKeys } from '../../shared/redis/keys.js';
import {
  auditEvents,
  bearer,
  eventually,
  type Harness,
  send,
  startHarness,
} from '../support/authorizer-harness.js';
import { anonymousRequests, flood, footprint } from '../support/flood.js';
import { countFigures } from './figures.js';

countFigures('attack');

/** 5,000 by default (seconds in the suite); FLOOD_REQUESTS=1000000 for the million (minutes). */
const AMOUNT = Number(process.env.FLOOD_REQUESTS ?? 5_000);

/** Every refusal counted under the harness's prefix, summed (after the authorizer's next flush). */
async function countedRefusals(h: Harness, since: number): Promise<Map<string, number>> {
  const counts = await readRefusalCounts(h.redis, redisKeys(h.prefix), since, Date.now());
  const sums = new Map<string, number>();
  for (const c of counts)
    sums.set(`${c.resource}|${c.reason}`, (sums.get(`${c.resource}|${c.reason}`) ?? 0) + c.count);
  return sums;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('floods of refused requests leave Redis within a fixed size', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it(
    `when ${AMOUNT.toLocaleString('en')} requests name no grant (none, forged, expired, another key's or resource's, unknown resource or host, bad paths, 12 KB paths, 8 KB user agents), then Redis gains a few counted minutes and no audit event`,
    async () => {
      const kinds = await anonymousRequests(h);
      const since = Date.now();
      // Settled: the grant minted for the kinds above wrote its own events first.
      const before = await footprint(h.redis, h.prefix);
      const result = await flood(h.url, kinds, { amount: AMOUNT, connections: 64 });
      expect(result.requests).toBe(AMOUNT);
      expect(result.errors).toBe(0);
      expect(Object.keys(result.statuses).sort()).toEqual(['400', '401', '403', '404']);
      // Every refusal counted (the authorizer writes its counts once a second).
      await eventually(async () => expect(total(await countedRefusals(h, since))).toBe(AMOUNT), 5_000);
      const after = await footprint(h.redis, h.prefix);
      const counted = await countedRefusals(h, since);
      expect([...counted.keys()].sort()).toEqual([
        'app|token_expired',
        'app|token_invalid',
        'app|token_missing',
        'app|wrong_resource',
        '|bad_path',
        '|no_such_resource',
      ]);
      expect(after.auditEvents).toBe(before.auditEvents);
      // One hash per minute the flood spanned (two at most in a few seconds), each a few hundred bytes.
      expect(after.keys - before.keys).toBeLessThanOrEqual(3);
      expect(after.bytes - before.bytes).toBeLessThan(3 * 512);
      console.log(
        `[flood] ${AMOUNT} refused requests in ${result.seconds.toFixed(1)} s (${Math.round(AMOUNT / result.seconds)}/s): ` +
          `Redis +${after.keys - before.keys} keys, +${after.bytes - before.bytes} B (MEMORY USAGE), ` +
          `+${after.auditEvents - before.auditEvents} audit events; before the fix each stored ~12.8 KB: ~${Math.round((AMOUNT * 12_800) / 1_048_576)} MB`,
      );
      // The authorizer still serves a holder at once.
      const { token } = await h.grant('app');
      expect((await send(h.url, '/app/', { headers: bearer(token) })).status).toBe(200);
    },
    Math.max(120_000, AMOUNT * 3),
  );

  it('when a holder keeps using a revoked grant, then at most 10 refusals a minute are audited for it and every one is counted', async () => {
    const { token, grantId } = await h.grant('app', undefined, { durationMs: 30 * 60_000 });
    await h.store.transitions.revoke(grantId, 'U0BOSS' as never, 'insider');
    const since = Date.now();
    const result = await flood(h.url, [{ path: `/app/${'p'.repeat(12_000)}`, headers: bearer(token) }], {
      amount: 300,
      connections: 16,
    });
    expect(result.statuses).toEqual({ 401: 300 });
    await eventually(async () =>
      expect((await countedRefusals(h, since)).get('app|grant_revoked')).toBe(300),
    );
    const denied = (await auditEvents(h)).filter((e) => e.type === 'access.denied' && e.grantId === grantId);
    expect(denied.length).toBe(GRANT_REFUSALS_AUDITED.perWindow);
    // Each is bounded: the 12 KB path is cut, and says so.
    for (const e of denied) {
      expect(e).toMatchObject({ reason: 'grant_revoked', actor: 'U0ALICE', resource: 'app' });
      expect(String(e.path).length).toBeLessThanOrEqual(MAX_STORED_TEXT);
      expect(String(e.path)).toMatch(/…\[cut \d+ chars\]$/);
    }
  });

  it('when refusals are counted, then the metrics say what became of them', async () => {
    await send(h.url, '/app/');
    const text = (await send(h.url, '/_jitgate/metrics')).text;
    expect(text).toMatch(/jitgate_authorizer_refusal_records_total\{record="counted"\} \d+/);
    expect(text).toMatch(/jitgate_authorizer_refusal_records_total\{record="audited"\} 10/);
    expect(text).toMatch(/jitgate_authorizer_refusal_records_total\{record="over_limit"\} 290/);
    expect(text).toMatch(
      /jitgate_authorizer_decisions_total\{resource="",decision="deny",reason="no_such_resource"\} \d+/,
    );
  });
});
