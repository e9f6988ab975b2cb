import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackUserId } from '../../shared/ids.js';
import { verifyAssertion } from '../../shared/tokens/index.js';
import {
  auditEvents,
  bearer,
  type Echoed,
  eventually,
  type Harness,
  PUBLIC_URL,
  send,
  startHarness,
} from '../support/authorizer-harness.js';
import {
  ACCESS_HOST,
  HOSTED_HOST,
  type SignInHarness,
  startSignInHarness,
} from '../support/signin-harness.js';

/** What nginx's auth location sends (see the README): the original request in X-Original-*. */
const nginxAsks = (method: string, uri: string, extra: Record<string, string> = {}) => ({
  'X-Original-Method': method,
  'X-Original-URI': uri,
  ...extra,
});
/** What Traefik's ForwardAuth sends: the original request in X-Forwarded-*. */
const traefikAsks = (method: string, host: string, uri: string, extra: Record<string, string> = {}) => ({
  'X-Forwarded-Method': method,
  'X-Forwarded-Host': host,
  'X-Forwarded-Uri': uri,
  'X-Forwarded-Proto': 'https',
  ...extra,
});

/**
 * /_jitgate/auth asked directly, as an ingress asks it: this process is the ingress (127.0.0.1 is
 * JITGATE_TRUSTED_PROXIES). The nginx suite runs the same through a real nginx.
 */
describe('forward-auth: the decision for an ingress', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ trustedProxies: ['127.0.0.1/32'] });
  });
  afterAll(async () => h.close());

  const auth = (headers: Record<string, string | string[]>, path = '/_jitgate/auth') =>
    send(h.url, path, { headers });

  it('when the request is allowed (Traefik’s headers), then 200, no body, and exactly the identity headers the proxy path sends upstream', async () => {
    const { token, grantId } = await h.grant('app', 'viewer');
    const res = await auth({ ...bearer(token), ...traefikAsks('GET', '127.0.0.1:8080', '/app/d/x?y=1') });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
    const proxied = (await send(h.url, '/app/d/x?y=1', { headers: bearer(token) })).json<Echoed>().headers;
    for (const name of ['x-jit-user', 'x-jit-email', 'x-jit-grant', 'x-jit-role']) {
      expect(res.headers[name], name).toBe(proxied[name]);
    }
    expect(res.headers['x-jit-grant']).toBe(grantId);
    const claims = await verifyAssertion(h.keys.publicJwks(), String(res.headers['x-jit-assertion']), {
      issuer: PUBLIC_URL,
      resource: 'app',
    });
    expect(claims).toMatchObject({ sub: 'U0ALICE', aud: 'app', gid: grantId, role: 'viewer' });
  });

  it('when a request is refused, then the status and the body (JSON or page) are the proxy path’s', async () => {
    const viewer = (await h.grant('app', 'viewer')).token;
    const other = (await h.grant('other')).token;
    const cases: [string, string, Record<string, string>][] = [
      ['GET', '/app/', {}],
      ['GET', '/app/', bearer('not.a.token')],
      ['POST', '/app/api/items', bearer(viewer)],
      ['DELETE', '/app/d/1', bearer(viewer)],
      ['GET', '/app/', bearer(other)],
      ['GET', '/lan/', bearer(other)],
      ['GET', '/nowhere/', bearer(viewer)],
      ['GET', '/app/?access_token=x', bearer(viewer)],
    ];
    for (const [method, uri, credential] of cases) {
      for (const accept of ['application/json', 'text/html']) {
        const proxied = await send(h.url, uri, { method, headers: { ...credential, accept } });
        const asked = await auth({ ...credential, accept, ...nginxAsks(method, uri) });
        expect(asked.status, `${method} ${uri}`).toBe(proxied.status);
        expect(asked.status).toBeGreaterThanOrEqual(400);
        expect(asked.text, `${method} ${uri}`).toBe(proxied.text);
        expect(asked.headers['www-authenticate']).toBe(proxied.headers['www-authenticate']);
        expect(asked.headers['x-jit-assertion']).toBeUndefined();
      }
    }
  });

  it('when the grant is revoked, then the very next ask is refused and the refusal is audited as on the proxy path', async () => {
    const { token, grantId } = await h.grant('app', 'viewer');
    expect((await auth({ ...bearer(token), ...nginxAsks('GET', '/app/') })).status).toBe(200);
    await h.store.transitions.revoke(grantId, 'U0BOSS' as SlackUserId, 'test');
    const res = await auth({ ...bearer(token), ...nginxAsks('GET', '/app/') });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: 'grant_revoked' });
    await eventually(async () => {
      const denied = (await auditEvents(h)).filter(
        (e) => e.type === 'access.denied' && e.grantId === grantId,
      );
      expect(denied[0]).toMatchObject({ reason: 'grant_revoked', method: 'GET', path: '/' });
    });
  });

  it('when the original request is missing, sent twice, contradictory or malformed, then 400 saying what is wrong, never a guess', async () => {
    const { token } = await h.grant('app', 'editor');
    const cases: [Record<string, string | string[]>, string, RegExp][] = [
      [{}, 'input_invalid', /X-Original-Method and X-Original-URI/],
      [{ 'X-Original-Method': 'GET' }, 'input_invalid', /original method and URI/],
      [{ 'X-Original-URI': '/app/' }, 'input_invalid', /original method and URI/],
      [
        { 'X-Original-Method': 'GET', 'X-Original-URI': ['/app/', '/other/'] },
        'input_invalid',
        /more than once/,
      ],
      [
        { ...nginxAsks('POST', '/app/api/x'), 'X-Forwarded-Method': 'GET', 'X-Forwarded-Uri': '/app/api/x' },
        'input_invalid',
        /disagree/,
      ],
      [{ ...nginxAsks('GET', '/app/'), 'X-Forwarded-Uri': '/other/' }, 'input_invalid', /disagree/],
      [nginxAsks('GE(T', '/app/'), 'input_invalid', /not an HTTP method/],
      [
        nginxAsks('GET', '/app/', { 'X-Forwarded-Host': 'a.example, hosted.test.local' }),
        'input_invalid',
        /one host/,
      ],
      [nginxAsks('GET', '/app/', { 'X-Forwarded-Host': 'u@hosted.test.local' }), 'input_invalid', /one host/],
      [nginxAsks('GET', '/app/api/%2e%2e/x'), 'bad_path', /encoded/],
      [nginxAsks('GET', '/app/api/../x'), 'bad_path', /segment/],
      [nginxAsks('GET', 'http://evil.example/app/'), 'bad_path', /not a path/],
      [nginxAsks('GET', '//evil.example/app/'), 'bad_path', /empty path segment/],
    ];
    for (const [headers, error, message] of cases) {
      const res = await auth({ ...bearer(token), ...headers });
      expect(res.status, JSON.stringify(headers)).toBe(400);
      expect(res.json(), JSON.stringify(headers)).toMatchObject({
        error,
        message: expect.stringMatching(message),
      });
      expect(res.headers['x-jit-user']).toBeUndefined();
    }
  });

  it('when the ingress passes the Upgrade header, then the WebSocket permission is judged as on the proxy path', async () => {
    const talker = (await h.grant('stream', 'talker')).token;
    const viewer = (await h.grant('stream', 'viewer')).token;
    const app = (await h.grant('app', 'editor')).token;
    const upgrade = (token: string, uri: string) =>
      auth({ ...bearer(token), ...nginxAsks('GET', uri), Upgrade: 'websocket' });
    expect((await upgrade(talker, '/stream/socket')).status).toBe(200);
    expect((await upgrade(viewer, '/stream/socket')).json()).toMatchObject({ error: 'method_not_allowed' });
    expect((await upgrade(app, '/app/api/socket')).json()).toMatchObject({ error: 'method_not_allowed' });
    // The same viewer without an upgrade is let through: the permission is the upgrade's.
    expect((await auth({ ...bearer(viewer), ...nginxAsks('GET', '/stream/socket') })).status).toBe(200);
  });

  it('when Envoy asks (the original method, at /_jitgate/auth + the original path), then the headers decide, never the ask’s own method or path', async () => {
    const viewer = (await h.grant('app', 'viewer')).token;
    const envoy = (method: string, path: string, original: [string, string]) =>
      send(h.url, path, {
        method,
        headers: { ...bearer(viewer), ...traefikAsks(original[0], '127.0.0.1:8080', original[1]) },
      });
    const allowed = await envoy('POST', '/_jitgate/auth/app/api/items', ['GET', '/app/d/1']);
    expect(allowed.status).toBe(200);
    expect(allowed.headers['x-jit-role']).toBe('viewer');
    // The ask's method and path say GET /app/: the headers say POST, which the viewer may not.
    const refused = await envoy('GET', '/_jitgate/auth/app/', ['POST', '/app/api/items']);
    expect(refused.status).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'method_not_allowed' });
    expect(refused.headers['x-jit-user']).toBeUndefined();
    // Without the headers (an Envoy without headers_to_add), nothing is guessed from the path.
    const bare = await send(h.url, '/_jitgate/auth/app/', { method: 'GET', headers: bearer(viewer) });
    expect(bare.status).toBe(400);
    // Any case, as jitgate's other routes.
    const upper = await send(h.url, '/_JITGATE/Auth', {
      headers: { ...bearer(viewer), ...nginxAsks('GET', '/app/') },
    });
    expect(upper.status).toBe(200);
    // Another name that merely starts like it is no forward-auth route.
    const near = await send(h.url, '/_jitgate/authx', {
      headers: { ...bearer(viewer), ...nginxAsks('GET', '/app/') },
    });
    expect(near.status).toBe(404);
    expect(near.headers['x-jit-user']).toBeUndefined();
  });
});

describe('forward-auth: without JITGATE_TRUSTED_PROXIES', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('when nobody is a trusted proxy, then every ask is refused with 403, even from loopback with a valid token', async () => {
    const { token } = await h.grant('app', 'viewer');
    const res = await send(h.url, '/_jitgate/auth', {
      headers: { ...bearer(token), ...nginxAsks('GET', '/app/') },
    });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({
      error: 'network_not_allowed',
      hint: expect.stringContaining('JITGATE_TRUSTED_PROXIES'),
    });
    expect(res.headers['x-jit-assertion']).toBeUndefined();
  });
});

describe('forward-auth with sign-in on', () => {
  const ALICE = { sub: 'idp-alice', email: 'alice@example.com', email_verified: true, name: 'Alice' };
  let h: SignInHarness;
  beforeAll(async () => {
    h = await startSignInHarness({ users: [ALICE], trustedProxies: ['127.0.0.1/32'] });
  });
  afterAll(async () => h.close());

  /** The ingress (this process) asking about a request a browser sent it. */
  const ask = (host: string, uri: string, headers: Record<string, string> = {}, query = '') =>
    send(`http://127.0.0.1:${h.authorizerPort}`, `/_jitgate/auth${query}`, {
      headers: {
        host: ACCESS_HOST,
        accept: 'text/html',
        ...nginxAsks('GET', uri, { 'X-Forwarded-Host': host }),
        ...headers,
      },
    });

  it('when a browser has no session, then 401 names where it signs in (X-JIT-Sign-In), or 302 there when asked with ?signin=redirect', async () => {
    const plain = await ask(HOSTED_HOST, '/dash?x=1');
    expect(plain.status).toBe(401);
    const to = new URL(String(plain.headers['x-jit-sign-in']));
    expect(`${to.origin}${to.pathname}`).toBe(`http://${HOSTED_HOST}/_jitgate/signin`);
    expect(to.searchParams.get('return')).toBe(`http://${HOSTED_HOST}/dash?x=1`);
    const redirected = await ask(HOSTED_HOST, '/dash?x=1', {}, '?signin=redirect');
    expect(redirected.status).toBe(302);
    expect(redirected.headers.location).toBe(to.href);
  });

  it('when the asker is not a browser asking for a page, then no sign-in URL, only the refusal', async () => {
    const asked: Record<string, string>[] = [
      { accept: 'application/json' },
      { authorization: 'Bearer x.y.z' },
    ];
    for (const headers of asked) {
      const res = await ask(HOSTED_HOST, '/dash', headers, '?signin=redirect');
      expect(res.status).toBe(401);
      expect(res.headers['x-jit-sign-in']).toBeUndefined();
    }
    // A host jitgate does not protect: nowhere to sign in and come back to.
    const unknown = await ask('evil.example', '/dash');
    expect(unknown.headers['x-jit-sign-in']).toBeUndefined();
  });

  it('when the browser signs in at that URL and comes back, then its session cookie is allowed with its identity; after logout it is not', async () => {
    const { gid } = await h.grant({ resource: 'hosted', role: 'access' });
    const start = String((await ask(HOSTED_HOST, '/dash')).headers['x-jit-sign-in']);
    h.idp.signInAs(ALICE.sub);
    const browser = h.browser();
    const back = `http://${HOSTED_HOST}/dash`;
    const { last } = await browser.follow(start, { until: (a) => a.url === back });
    expect(last.url).toBe(back);
    const cookie = [...(browser.jar.get(HOSTED_HOST) ?? new Map()).entries()]
      .map(([n, c]) => `${n}=${c.value}`)
      .join('; ');
    const allowed = await ask(HOSTED_HOST, '/dash', { cookie });
    expect(allowed.status).toBe(200);
    expect(allowed.headers).toMatchObject({
      'x-jit-grant': gid,
      'x-jit-email': 'alice@example.com',
      'x-jit-role': 'access',
    });
    // The cookie is host-only: asked about another host, it does not count.
    expect((await ask(ACCESS_HOST, '/shared/', { cookie })).status).toBe(401);
    await browser.get(`http://${HOSTED_HOST}/_jitgate/logout`);
    expect((await ask(HOSTED_HOST, '/dash', { cookie })).status).toBe(401);
  });
});
