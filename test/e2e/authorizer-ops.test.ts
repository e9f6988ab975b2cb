import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, bearer, eventually, type Harness, send, startHarness } from './authorizer-harness.js';

describe('authorizer: operations endpoints', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('when healthz and readyz are asked with Redis up, then both answer 200', async () => {
    expect((await send(h.url, '/_jitgate/healthz')).status).toBe(200);
    const ready = await send(h.url, '/_jitgate/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({ redis: 'ok' });
  });

  it('when the JWKS is fetched, then it holds the public keys only (no d), each with a kid', async () => {
    const res = await send(h.url, '/_jitgate/jwks.json');
    expect(res.status).toBe(200);
    const { keys } = res.json<{ keys: Record<string, unknown>[] }>();
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      expect(k.kid).toEqual(expect.any(String));
      expect(k).not.toHaveProperty('d');
    }
    expect(keys.map((k) => k.kid)).toContain(h.keys.signing.kid);
  });

  it('when requests are allowed, denied and fail upstream, then the metrics count them', async () => {
    const { token } = await h.grant('app');
    await send(h.url, '/app/', { headers: bearer(token) });
    await send(h.url, '/app/');
    await send(h.url, '/down/', { headers: bearer((await h.grant('down')).token) });
    const res = await send(h.url, '/_jitgate/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    const text = res.text;
    expect(text).toMatch(
      /jitgate_authorizer_decisions_total\{resource="app",decision="allow",reason="ok"\} \d+/,
    );
    expect(text).toMatch(
      /jitgate_authorizer_decisions_total\{resource="app",decision="deny",reason="token_missing"\} 1/,
    );
    expect(text).toMatch(/jitgate_upstream_errors_total\{resource="down",kind="unreachable"\} 1/);
    expect(text).toMatch(/jitgate_authorizer_request_duration_seconds_bucket\{le="0.1",resource="app"\} \d+/);
    const active = Number(/^jitgate_active_grants (\d+)$/m.exec(text)?.[1]);
    expect(active).toBe(await h.store.queries.countActiveGrants());
    expect(active).toBeGreaterThanOrEqual(2);
  });

  it('when a grant is used, then access.allowed is audited at first use and later counts are flushed', async () => {
    const { token, grantId } = await h.grant('app');
    await send(h.url, '/app/', { headers: bearer(token) });
    await eventually(async () => {
      const first = (await auditEvents(h)).filter(
        (e) => e.type === 'access.allowed' && e.grantId === grantId,
      );
      expect(first).toEqual([expect.objectContaining({ firstUse: true, requests: 1, actor: 'U0ALICE' })]);
    });
    for (let i = 0; i < 3; i += 1) await send(h.url, '/app/', { headers: bearer(token) });
    await eventually(async () => {
      const all = (await auditEvents(h)).filter((e) => e.type === 'access.allowed' && e.grantId === grantId);
      const counted = all.reduce((n, e) => n + Number(e.requests), 0);
      expect(counted).toBe(4);
    });
  });
});

describe('authorizer: graceful stop', () => {
  it('when stop is called during a slow request, then that request still finishes and new ones are refused', async () => {
    const h = await startHarness();
    try {
      const { token } = await h.grant('app');
      const slow = send(h.url, '/app/?delay=400', { headers: bearer(token) });
      // Stop once the slow request is at the upstream (in flight), not after a guess at how long that takes.
      await eventually(() => expect(h.echo.requests.some((r) => r.path.includes('delay=400'))).toBe(true));
      const stopped = h.authorizer.stop();
      expect((await slow).status).toBe(200);
      await stopped;
      await expect(send(h.url, '/_jitgate/healthz')).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await h.close();
    }
  });
});
