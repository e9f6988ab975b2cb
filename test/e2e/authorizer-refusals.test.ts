import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { generateSigningKeySet, loadSigningKeys, signAccessToken } from '../../shared/tokens/index.js';
import {
  auditEvents,
  bearer,
  eventually,
  type Harness,
  PUBLIC_URL,
  send,
  startHarness,
} from './authorizer-harness.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('authorizer: every refusal of DESIGN.md', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ upstreamTimeoutMs: 500 });
  });
  afterAll(async () => h.close());

  async function refused(path: string, headers: Record<string, string> = {}, method = 'GET') {
    const res = await send(h.url, path, { headers, method });
    const body = res.json<{ error: string; message: string; hint: string }>();
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(body).sort()).toEqual(['error', 'hint', 'message']);
    return { status: res.status, ...body };
  }

  it('when no token is sent, then 401 token_missing with the /access command to type', async () => {
    const r = await refused('/app/d/x');
    expect(r).toMatchObject({ status: 401, error: 'token_missing' });
    expect(r.hint).toContain('/access app/viewer 1h <reason>');
  });

  it('when the token is garbage or signed by another key, then 401 token_invalid', async () => {
    expect(await refused('/app/', bearer('not.a.jwt'))).toMatchObject({
      status: 401,
      error: 'token_invalid',
    });
    const { grantId, expiresAt } = await h.grant('app');
    const foreign = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
    const forged = await signAccessToken(
      foreign,
      { issuer: PUBLIC_URL, grantId, user: 'U0ALICE', email: '', resource: 'app', role: 'viewer', expiresAt },
      systemClock,
    );
    expect(await refused('/app/', bearer(forged))).toMatchObject({ status: 401, error: 'token_invalid' });
  });

  it('when the token names a role its grant does not have, then 401 token_invalid', async () => {
    const { grantId, expiresAt } = await h.grant('app', 'viewer');
    const token = await signAccessToken(
      h.keys,
      { issuer: PUBLIC_URL, grantId, user: 'U0ALICE', email: '', resource: 'app', role: 'editor', expiresAt },
      systemClock,
    );
    expect(await refused('/app/api/x', bearer(token))).toMatchObject({ status: 401, error: 'token_invalid' });
  });

  it('when the token is in the query string, then 401 token_invalid and nothing is forwarded', async () => {
    const { token } = await h.grant('app');
    const before = h.echo.requests.length;
    for (const name of ['token', 'access_token', 'ACCESS_TOKEN', '%74oken']) {
      const r = await refused(`/app/?${name}=${token}`, bearer(token));
      expect(r).toMatchObject({ status: 401, error: 'token_invalid' });
      expect(r.hint).toMatch(/Authorization: Bearer/);
    }
    expect(h.echo.requests.length).toBe(before);
  });

  it('when the token has expired, then 401 token_expired', async () => {
    const { grantId } = await h.grant('app');
    const token = await signAccessToken(
      h.keys,
      {
        issuer: PUBLIC_URL,
        grantId,
        user: 'U0ALICE',
        email: '',
        resource: 'app',
        role: 'viewer',
        expiresAt: Date.now() - 60_000,
      },
      { now: () => Date.now() - 120_000 },
    );
    expect(await refused('/app/', bearer(token))).toMatchObject({ status: 401, error: 'token_expired' });
  });

  it('when the grant is revoked, then the very next request gets 401 grant_revoked', async () => {
    const { token, grantId } = await h.grant('app');
    expect((await send(h.url, '/app/', { headers: bearer(token) })).status).toBe(200);
    await h.store.transitions.revoke(grantId, 'U0BOSS' as never, 'test');
    expect(await refused('/app/', bearer(token))).toMatchObject({ status: 401, error: 'grant_revoked' });
  });

  it('when the grant has run out (a 1-second grant, real time), then 401 grant_expired', async () => {
    const { token } = await h.grant('app', 'viewer', { durationMs: 1_000 });
    expect((await send(h.url, '/app/', { headers: bearer(token) })).status).toBe(200);
    await wait(1_100);
    expect(await refused('/app/', bearer(token))).toMatchObject({ status: 401, error: 'grant_expired' });
  });

  it('when the token is for another resource, then 403 wrong_resource', async () => {
    const { token } = await h.grant('other');
    const r = await refused('/app/', bearer(token));
    expect(r).toMatchObject({ status: 403, error: 'wrong_resource' });
    expect(r.hint).toContain('/access app/');
  });

  it('when the role does not allow the method or path, then 403 method_not_allowed naming a role that does', async () => {
    const viewer = (await h.grant('app', 'viewer')).token;
    const r = await refused('/app/api/items', bearer(viewer), 'POST');
    expect(r).toMatchObject({ status: 403, error: 'method_not_allowed' });
    expect(r.hint).toContain('/access app/editor 1h <reason>');
    const editor = (await h.grant('app', 'editor')).token;
    expect((await send(h.url, '/app/api/items', { method: 'POST', headers: bearer(editor) })).status).toBe(
      200,
    );
    expect(await refused('/app/d/board', bearer(editor), 'DELETE')).toMatchObject({
      status: 403,
      error: 'method_not_allowed',
    });
  });

  it('when the client address is outside the resource networks, then 403 network_not_allowed', async () => {
    const { token } = await h.grant('lan');
    expect(await refused('/lan/', bearer(token))).toMatchObject({
      status: 403,
      error: 'network_not_allowed',
    });
    const local = (await h.grant('local')).token;
    expect((await send(h.url, '/local/', { headers: bearer(local) })).status).toBe(200);
  });

  it('when nothing matches, then 404 no_such_resource', async () => {
    expect(await refused('/nothing/here')).toMatchObject({ status: 404, error: 'no_such_resource' });
    expect(await refused('/application')).toMatchObject({ status: 404, error: 'no_such_resource' });
    expect(await refused('/_jitgate/unknown')).toMatchObject({ status: 404, error: 'no_such_resource' });
  });

  it('when the upstream is down or too slow, then 502 or 504 with a clear body', async () => {
    const down = (await h.grant('down')).token;
    expect(await refused('/down/', bearer(down))).toMatchObject({
      status: 502,
      error: 'upstream_unreachable',
    });
    const app = (await h.grant('app')).token;
    expect(await refused('/app/?delay=1500', bearer(app))).toMatchObject({
      status: 504,
      error: 'upstream_timeout',
    });
  });

  it('when a browser is refused, then it gets a small HTML page with the hint', async () => {
    const res = await send(h.url, '/app/', {
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('/access app/viewer 1h &lt;reason&gt;');
  });

  it('when a refusal names a user or resource, then access.denied is audited', async () => {
    const { token, grantId } = await h.grant('app', 'viewer');
    await send(h.url, '/app/x', { method: 'PUT', headers: bearer(token) });
    await eventually(async () => {
      const denied = (await auditEvents(h)).filter(
        (e) => e.type === 'access.denied' && e.grantId === grantId,
      );
      expect(denied).toEqual([
        expect.objectContaining({
          actor: 'U0ALICE',
          resource: 'app',
          reason: 'method_not_allowed',
          method: 'PUT',
        }),
      ]);
    });
  });
});
