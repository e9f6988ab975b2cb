import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackUserId } from '../../shared/ids.js';
import { verifyAssertion } from '../../shared/tokens/index.js';
import {
  type Answer,
  bearer,
  type Echoed,
  type Harness,
  PUBLIC_URL,
  startHarness,
} from '../support/authorizer-harness.js';
import { CookieBrowser } from '../support/cookie-browser.js';
import { freePort, HAVE_NGINX, NGINX, type Nginx, nginxForwardAuth, startNginx } from '../support/nginx.js';
import { ON_CLUSTER, REDIS_URL } from '../support/redis.js';
import { monitorRedis } from '../support/redis-monitor.js';
import {
  ACCESS_HOST,
  HOSTED_HOST,
  type SignInHarness,
  startSignInHarness,
} from '../support/signin-harness.js';

if (!HAVE_NGINX)
  console.warn(`forward-auth nginx tests skipped: no nginx at ${NGINX} (apt-get install nginx)`);

/** A raw request (path byte for byte), optionally from another loopback address than 127.0.0.1. */
function send(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string | string[]>; from?: string } = {},
): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        hostname,
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
        localAddress: options.from,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * Forward-auth behind a real nginx: `auth_request` to jitgate's /_jitgate/auth with the README's
 * configuration, the upstream behind nginx. jitgate believes only nginx (127.0.0.1); a client on
 * 127.0.0.2 stands for anyone else.
 */
describe.skipIf(!HAVE_NGINX)('forward-auth: nginx auth_request in front, jitgate deciding', () => {
  let h: Harness;
  let nginx: Nginx;
  beforeAll(async () => {
    h = await startHarness({ trustedProxies: ['127.0.0.1/32'] });
    const jitgate = new URL(h.url).host;
    const echo = new URL(h.echo.url).host;
    const port = await freePort();
    nginx = await startNginx(
      port,
      `
  upstream jitgate { server ${jitgate}; keepalive 8; }
  upstream echo { server ${echo}; keepalive 8; }
  server {
    listen 127.0.0.1:${port};
${nginxForwardAuth.server}
${['/app', '/other', '/lan', '/local'].map((p) => nginxForwardAuth.protect(p, 'echo')).join('\n')}
  }`,
    );
  });
  afterAll(async () => {
    await nginx?.stop();
    await h?.close();
  });

  const through = (path: string, options: Parameters<typeof send>[2] = {}) => send(nginx.url, path, options);

  it('when the token allows the request, then nginx passes it and the upstream gets the identity headers and a verifiable assertion, no token', async () => {
    const { token, grantId } = await h.grant('app', 'viewer');
    const res = await through('/app/d/abc?x=1', { headers: bearer(token) });
    expect(res.status, await nginx.errors()).toBe(200);
    const seen = res.json<Echoed>();
    expect(seen.path).toBe('/d/abc?x=1');
    expect(seen.headers).toMatchObject({
      'x-jit-user': 'U0ALICE',
      'x-jit-email': 'u0alice@example.com',
      'x-jit-grant': grantId,
      'x-jit-role': 'viewer',
    });
    expect(seen.headers.authorization).toBeUndefined();
    const claims = await verifyAssertion(h.keys.publicJwks(), seen.headers['x-jit-assertion']!, {
      issuer: PUBLIC_URL,
      resource: 'app',
    });
    expect(claims).toMatchObject({ sub: 'U0ALICE', aud: 'app', gid: grantId, role: 'viewer' });
  });

  it('when the token comes as the resource cookie, then it counts as on the proxy path, and jitgate’s cookies never reach the upstream', async () => {
    const { token, grantId } = await h.grant('app', 'viewer');
    const res = await through('/app/', {
      headers: { cookie: `theme=dark; jitgate_app=${token}; __Host-jitgate_session=s; session=s1` },
    });
    expect(res.status).toBe(200);
    const seen = res.json<Echoed>();
    expect(seen.headers['x-jit-grant']).toBe(grantId);
    expect(seen.headers.cookie).toBe('theme=dark; session=s1');
    expect(res.text).not.toContain(token);
    // Only jitgate's cookie: no Cookie header at all.
    const alone = (await through('/app/', { headers: { cookie: `jitgate_app=${token}` } })).json<Echoed>();
    expect(alone.headers.cookie).toBeUndefined();
    // No cookies sent, a bearer token: nothing added.
    expect(
      (await through('/app/', { headers: bearer(token) })).json<Echoed>().headers.cookie,
    ).toBeUndefined();
  });

  it('when the client sends identity headers of its own, then the upstream sees only jitgate’s', async () => {
    const { token } = await h.grant('app', 'viewer');
    const seen = (
      await through('/app/', {
        headers: { ...bearer(token), 'X-JIT-User': 'U0MALLORY', 'x-jit-role': 'admin', 'X-JIT-Email': 'm@x' },
      })
    ).json<Echoed>();
    expect(seen.headers['x-jit-user']).toBe('U0ALICE');
    expect(seen.headers['x-jit-role']).toBe('viewer');
    expect(seen.headers['x-jit-email']).toBe('u0alice@example.com');
  });

  it('when no token is sent, then 401 and the upstream is never asked', async () => {
    const before = h.echo.requests.length;
    const res = await through('/app/');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('Bearer');
    expect(h.echo.requests.length).toBe(before);
  });

  it('when the token is not a valid one, then 401', async () => {
    expect((await through('/app/', { headers: bearer('not.a.token') })).status).toBe(401);
  });

  it('when the grant is revoked, then the very next request through nginx is refused', async () => {
    const { token, grantId } = await h.grant('app', 'viewer');
    expect((await through('/app/', { headers: bearer(token) })).status).toBe(200);
    await h.store.transitions.revoke(grantId, 'U0BOSS' as SlackUserId, 'test');
    expect((await through('/app/', { headers: bearer(token) })).status).toBe(401);
  });

  it('when the role does not allow the method or the path, then 403 and the upstream is never asked', async () => {
    const viewer = (await h.grant('app', 'viewer')).token;
    const editor = (await h.grant('app', 'editor')).token;
    const before = h.echo.requests.length;
    expect((await through('/app/api/items', { method: 'POST', headers: bearer(viewer) })).status).toBe(403);
    expect((await through('/app/d/board', { method: 'DELETE', headers: bearer(editor) })).status).toBe(403);
    expect(h.echo.requests.length).toBe(before);
    expect((await through('/app/api/items', { method: 'POST', headers: bearer(editor) })).status).toBe(200);
  });

  it('when the token is for another resource, or the client is outside its networks, then 403', async () => {
    const other = (await h.grant('other')).token;
    expect((await through('/app/', { headers: bearer(other) })).status).toBe(403);
    expect((await through('/lan/', { headers: bearer((await h.grant('lan')).token) })).status).toBe(403);
    expect((await through('/local/', { headers: bearer((await h.grant('local')).token) })).status).toBe(200);
  });

  it('when the path is one jitgate refuses (an encoded dot segment), then nginx refuses it too', async () => {
    const { token } = await h.grant('app', 'editor');
    const res = await through('/app/api/%2e%2e/d', { headers: bearer(token) });
    // jitgate answers 400 bad_path; nginx turns any auth answer but 2xx/401/403 into a 500: refused.
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).not.toBe(200);
  });

  it('when the client sends X-Original-* or X-Forwarded-* of its own through nginx, then jitgate judges the real request', async () => {
    const viewer = (await h.grant('app', 'viewer')).token;
    const hosted = (await h.grant('hosted')).token;
    const spoof = {
      'X-Original-Method': 'GET',
      'X-Original-URI': '/app/',
      'X-Forwarded-Method': 'GET',
      'X-Forwarded-Uri': '/app/',
    };
    const before = h.echo.requests.length;
    const post = await through('/app/api/items', {
      method: 'POST',
      headers: { ...bearer(viewer), ...spoof },
    });
    expect(post.status).toBe(403);
    // A host of its choosing: the host resource's token is judged on the host nginx saw.
    const host = await through('/app/', {
      headers: { ...bearer(hosted), 'X-Forwarded-Host': 'hosted.test.local' },
    });
    expect(host.status).toBe(403);
    expect(h.echo.requests.length).toBe(before);
  });

  it('when a client asks the auth route through nginx, then it does not exist there', async () => {
    const { token } = await h.grant('app', 'viewer');
    const headers = { ...bearer(token), 'X-Original-Method': 'GET', 'X-Original-URI': '/app/' };
    const auth = await through('/_jitgate/auth', { headers });
    expect(auth.status).toBe(404);
    expect(auth.headers['x-jit-assertion']).toBeUndefined();
    expect((await through('/_jitgate_auth', { headers })).status).toBe(404);
    // Nor below it (jitgate answers /_jitgate/auth/<path> for Envoy).
    const below = await through('/_jitgate/auth/app/', { headers });
    expect(below.status).toBe(404);
    expect(below.headers['x-jit-assertion']).toBeUndefined();
    // The rest of /_jitgate/ stays reachable (redeem links, sign-in, JWKS).
    expect((await through('/_jitgate/jwks.json')).status).toBe(200);
  });

  it('when a client that is not a trusted proxy asks jitgate directly with X-Original-*, then 403 whatever it sends', async () => {
    const { token } = await h.grant('app', 'viewer');
    for (const headers of [
      { ...bearer(token), 'X-Original-Method': 'GET', 'X-Original-URI': '/app/' },
      {
        ...bearer(token),
        'X-Forwarded-Method': 'GET',
        'X-Forwarded-Uri': '/app/',
        'X-Forwarded-For': '127.0.0.1',
      },
      bearer(token),
    ]) {
      const res = await send(h.url, '/_jitgate/auth', { headers, from: '127.0.0.2' });
      expect(res.status).toBe(403);
      expect(res.json()).toMatchObject({ error: 'network_not_allowed' });
      expect(res.headers['x-jit-user']).toBeUndefined();
      expect(res.headers['x-jit-assertion']).toBeUndefined();
    }
  });

  it.skipIf(ON_CLUSTER)(
    'when requests are allowed through nginx, then each costs exactly one Redis read',
    async () => {
      const { token } = await h.grant('app', 'viewer');
      expect((await through('/app/warm', { headers: bearer(token) })).status).toBe(200);
      const calls: string[] = [];
      const monitor = await monitorRedis(REDIS_URL, ({ source, args }) => {
        if (source === 'lua' || !args.some((a) => a.includes(h.prefix))) return;
        calls.push(args[0]!.toLowerCase());
      });
      try {
        for (let i = 0; i < 5; i++)
          expect((await through(`/app/n/${i}`, { headers: bearer(token) })).status).toBe(200);
        // A marker after the requests: MONITOR reports in order, so every read before it is seen.
        await h.redis.get(`${h.prefix}:end-marker`);
        for (let i = 0; i < 100 && !calls.includes('get'); i++) await new Promise((r) => setTimeout(r, 10));
      } finally {
        monitor.close();
      }
      // Use counts are written in batches (record-use), never per request.
      expect(calls.filter((c) => c !== 'get' && c !== 'evalsha' && c !== 'eval')).toEqual(
        Array(5).fill('hmget'),
      );
    },
  );
});

/**
 * Sign-in behind nginx: the README's `error_page 401 = @jitgate_signin` sends a browser without a
 * session to jitgate's sign-in on the host it asked for (nginx routes `/_jitgate/` there), and back.
 * hosted.test.local is served by nginx; access.test.local (the sign-in host) by the authorizer.
 */
describe.skipIf(!HAVE_NGINX)('forward-auth behind nginx, with sign-in on', () => {
  const ALICE = { sub: 'idp-alice', email: 'alice@example.com', email_verified: true, name: 'Alice' };
  let h: SignInHarness;
  let nginx: Nginx;
  beforeAll(async () => {
    h = await startSignInHarness({ users: [ALICE], trustedProxies: ['127.0.0.1/32'] });
    const port = await freePort();
    nginx = await startNginx(
      port,
      `
  upstream jitgate { server 127.0.0.1:${h.authorizerPort}; keepalive 8; }
  upstream echo { server ${new URL(h.echo.url).host}; keepalive 8; }
  server {
    listen 127.0.0.1:${port};
${nginxForwardAuth.server}
${nginxForwardAuth.protect('', 'echo')}
  }`,
    );
  });
  afterAll(async () => {
    await nginx?.stop();
    await h?.close();
  });

  const browser = () => new CookieBrowser({ [ACCESS_HOST]: h.authorizerPort, [HOSTED_HOST]: nginx.port });

  it('when a browser without a session opens a page, then nginx sends it to sign in, and it comes back to the page with its identity at the upstream', async () => {
    const { gid } = await h.grant({ resource: 'hosted', role: 'access' });
    h.idp.signInAs(ALICE.sub);
    const b = browser();
    const page = `http://${HOSTED_HOST}/dash?x=1`;
    const first = await b.get(page);
    expect(first.status, await nginx.errors()).toBe(302);
    expect(first.location).toMatch(new RegExp(`^http://${HOSTED_HOST}/_jitgate/signin\\?return=`));
    const { chain, last } = await b.follow(first.location!);
    expect(chain.some((a) => a.url.startsWith(`http://${ACCESS_HOST}/_jitgate/signin`))).toBe(true);
    expect(last.url).toBe(page);
    expect(last.status).toBe(200);
    const seen = JSON.parse(last.body) as { path: string; headers: Record<string, string> };
    expect(seen.path).toBe('/dash?x=1');
    expect(seen.headers).toMatchObject({
      'x-jit-grant': gid,
      'x-jit-email': 'alice@example.com',
      'x-jit-role': 'access',
    });
    // The session cookie (and the binding cookie) stayed at the edge; the browser did send them.
    expect(b.cookie(HOSTED_HOST, 'jitgate_session')).toBeDefined();
    expect(seen.headers.cookie ?? '').not.toMatch(/jitgate/);
  });

  it('when an API client (no text/html) has no session, then a plain 401, no redirect', async () => {
    const res = await browser().get(`http://${HOSTED_HOST}/api`, { accept: 'application/json' });
    expect(res.status).toBe(401);
    expect(res.location).toBeUndefined();
  });
});
