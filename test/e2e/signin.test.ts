import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Session } from '../../authorizer/identity/index.js';
import { connectRedis } from '../../shared/redis/connect.js';
import type { CookieBrowser } from '../support/cookie-browser.js';
import { deletePrefix, REDIS_TARGET, waitReady } from '../support/redis.js';
import {
  ACCESS_HOST,
  HOSTED_HOST,
  type SignInHarness,
  startSignInHarness,
} from '../support/signin-harness.js';

const ALICE = { sub: 'okta-alice', email: 'Alice@Example.com', email_verified: true, name: 'Alice' };

/** The session the browser holds for `host`, as the authorizer reads it. */
async function sessionIn(h: SignInHarness, b: CookieBrowser, host: string): Promise<Session> {
  const name = h.publicUrl.startsWith('https') ? '__Host-jitgate_session' : 'jitgate_session';
  const value = b.cookie(host, name);
  const found = await h.authorizer.signIn!.sessionOf({
    headers: { host, cookie: `${name}=${value}` },
  } as IncomingMessage);
  if (!found.ok) throw new Error(`no session: ${found.reason}`);
  return found.session;
}

describe('sign-in with a generic IdP (matched by verified e-mail)', () => {
  let h: SignInHarness;
  beforeAll(async () => {
    h = await startSignInHarness({ users: [ALICE], sessionTtlMs: 2 * 3_600_000 });
  });
  afterAll(() => h.close());

  it('when a browser opens a resource without a session, then it signs in at the IdP and comes back to the URL it asked for', async () => {
    const b = h.browser();
    const { chain, last } = await b.follow(`http://${ACCESS_HOST}/app/dashboards/x?from=now-1h`);
    expect(new URL(chain[0]!.location!).origin).toBe(h.idp.issuer);
    const callback = chain.find((a) => a.url.includes('/_jitgate/oauth2/callback'))!;
    expect(callback.location).toBe(`http://${ACCESS_HOST}/app/dashboards/x?from=now-1h`);
    expect(callback.headers['cache-control']).toBe('no-store');
    // Signed in; the gate then answers as it does today (grants bound to the person come on top).
    expect(last.url).toBe(`http://${ACCESS_HOST}/app/dashboards/x?from=now-1h`);
    expect(last.status).toBe(401);
    const session = await sessionIn(h, b, ACCESS_HOST);
    expect(session).toMatchObject({
      idp: h.idp.issuer,
      sub: 'okta-alice',
      person: { kind: 'email', email: 'alice@example.com' },
      name: 'Alice',
      host: ACCESS_HOST,
    });
    // The login transaction cookie is gone once used.
    expect([...(b.jar.get(ACCESS_HOST)?.keys() ?? [])]).toEqual(['jitgate_session']);
  });

  it('when the browser comes back with its session, then it is not sent to the IdP again, and the cookie is not slid', async () => {
    const b = h.browser();
    await b.follow(`http://${ACCESS_HOST}/app/`);
    const logins = h.idp.logins();
    const again = await b.get(`http://${ACCESS_HOST}/app/other`);
    expect(again.status).toBe(401);
    expect(again.cookies).toEqual([]);
    expect(h.idp.logins()).toBe(logins);
  });

  it('when the session is made, then it lasts exactly JITGATE_SESSION_TTL from sign-in (cookie Max-Age and exp)', async () => {
    const b = h.browser();
    const { chain } = await b.follow(`http://${ACCESS_HOST}/app/`);
    const set = chain.flatMap((a) => a.cookies).find((c) => c.startsWith('jitgate_session='))!;
    expect(set).toMatch(/; HttpOnly; SameSite=Lax; Path=\/; Max-Age=(7199|7200)$/);
    const session = await sessionIn(h, b, ACCESS_HOST);
    expect(session.exp - session.iat).toBe(7200);
  });

  it('when an API client (no text/html) has no session, then it gets the 401 JSON of today, not a redirect', async () => {
    const b = h.browser();
    const answer = await b.get(`http://${ACCESS_HOST}/app/x`, { accept: 'application/json' });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'token_missing' });
  });

  it('when the person logs out, then the cookie is cleared and a copy of it no longer counts', async () => {
    const b = h.browser();
    await b.follow(`http://${ACCESS_HOST}/app/`);
    const copy = b.cookie(ACCESS_HOST, 'jitgate_session')!;
    const session = await sessionIn(h, b, ACCESS_HOST);
    const out = await b.get(`http://${ACCESS_HOST}/_jitgate/logout`);
    expect(out.status).toBe(200);
    expect(out.body).toMatch(/signed out/);
    expect(out.cookies).toEqual(['jitgate_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0']);
    expect(b.cookie(ACCESS_HOST, 'jitgate_session')).toBeUndefined();
    const ttl = await h.test.redis.pttl(h.test.keys.sessionEnded(session.sid));
    expect(ttl).toBeGreaterThan(7_100_000);
    expect(ttl).toBeLessThanOrEqual(7_200_000);

    const thief = h.browser();
    thief.setCookie(ACCESS_HOST, 'jitgate_session', copy);
    const answer = await thief.get(`http://${ACCESS_HOST}/app/`);
    expect(answer.status).toBe(303);
    expect(new URL(answer.location!).origin).toBe(h.idp.issuer);
  });

  it('when a host-routed resource is opened, then sign-in happens on the public host and a one-time handoff sets that host its own cookie', async () => {
    const b = h.browser();
    const { chain, last } = await b.follow(`http://${HOSTED_HOST}/d/1?x=2`);
    // The sign-in URL also carries the hash of this host's binding cookie (the handoff's browser).
    const start = new URL(chain[0]!.location!);
    expect(`${start.origin}${start.pathname}`).toBe(`http://${ACCESS_HOST}/_jitgate/signin`);
    expect(start.searchParams.get('return')).toBe(`http://${HOSTED_HOST}/d/1?x=2`);
    expect(start.searchParams.get('bind')).toMatch(/^[\w-]{43}$/);
    const handoff = chain.find((a) => a.url.includes('/_jitgate/session?code='))!;
    expect(new URL(handoff.url).host).toBe(HOSTED_HOST);
    expect(handoff.location).toBe(`http://${HOSTED_HOST}/d/1?x=2`);
    expect(last.url).toBe(`http://${HOSTED_HOST}/d/1?x=2`);
    const here = await sessionIn(h, b, HOSTED_HOST);
    const there = await sessionIn(h, b, ACCESS_HOST);
    expect(here).toEqual({ ...there, host: HOSTED_HOST });

    // The code works once; a replay (even in the same browser) is refused.
    const replay = await h.browser().get(handoff.url);
    expect(replay.status).toBe(404);
    expect(replay.cookies).toEqual([]);

    // Signed in already: the next host-routed visit needs no IdP round trip.
    const b2logins = h.idp.logins();
    b.jar.get(HOSTED_HOST)!.clear();
    const { last: back } = await b.follow(`http://${HOSTED_HOST}/d/2`);
    expect(back.url).toBe(`http://${HOSTED_HOST}/d/2`);
    expect(h.idp.logins()).toBe(b2logins);
  });

  it('when a handoff code is used on another host than the one it was made for, then it is refused', async () => {
    const b = h.browser();
    const { chain } = await b.follow(`http://${HOSTED_HOST}/d/1`, {
      until: (a) => a.location?.includes('/_jitgate/session?code=') === true,
    });
    const code = new URL(chain.at(-1)!.location!).searchParams.get('code');
    const elsewhere = await h.browser().get(`http://${ACCESS_HOST}/_jitgate/session?code=${code}`);
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.cookies).toEqual([]);
  });
});

describe('Sign in with Slack (matched by Slack user id)', () => {
  let h: SignInHarness;
  beforeAll(async () => {
    h = await startSignInHarness({
      matchBy: 'slack',
      users: [
        {
          sub: 'U0ALICE',
          email: 'alice@acme.com',
          email_verified: true,
          name: 'Alice',
          slack: { user: 'U0ALICE', team: 'T0ACME' },
        },
      ],
    });
  });
  afterAll(() => h.close());

  it('when a person signs in with Slack, then the session names their Slack user and workspace from the ID token', async () => {
    const b = h.browser();
    await b.follow(`http://${ACCESS_HOST}/app/`);
    expect((await sessionIn(h, b, ACCESS_HOST)).person).toEqual({
      kind: 'slack',
      user: 'U0ALICE',
      team: 'T0ACME',
    });
  });
});

describe('sign-in when the public URL is https', () => {
  let h: SignInHarness;
  beforeAll(async () => {
    h = await startSignInHarness({ users: [ALICE], scheme: 'https' });
  });
  afterAll(() => h.close());

  it('when a browser signs in, then the cookies are Secure, the session is __Host- and the transaction __Secure-', async () => {
    const b = h.browser();
    const { chain } = await b.follow(`https://${ACCESS_HOST}/app/`);
    expect(chain[0]!.cookies[0]).toMatch(
      /^__Secure-jitgate_login_[\w-]+=.*; Path=\/_jitgate\/oauth2\/callback; Max-Age=600; Secure$/,
    );
    const set = chain.flatMap((a) => a.cookies).find((c) => c.startsWith('__Host-jitgate_session='))!;
    expect(set).toMatch(/; HttpOnly; SameSite=Lax; Path=\/; Max-Age=\d+; Secure$/);
    expect((await sessionIn(h, b, ACCESS_HOST)).person).toEqual({
      kind: 'email',
      email: 'alice@example.com',
    });
  });
});

describe('sign-in without Redis', () => {
  it('when Redis cannot be reached, then a browser with a session is refused with 503, not let through or sent in circles', async () => {
    const h = await startSignInHarness({ users: [ALICE] });
    try {
      const b = h.browser();
      await b.follow(`http://${ACCESS_HOST}/app/`);
      expect(b.cookie(ACCESS_HOST, 'jitgate_session')).toBeDefined();
      h.test.redis.disconnect(); // fail-fast connection: every command now errors at once
      const answer = await b.get(`http://${ACCESS_HOST}/app/`);
      expect(answer.status).toBe(503);
      expect(answer.body).toMatch(/cannot complete sign-in right now/);
      const logout = await b.get(`http://${ACCESS_HOST}/_jitgate/logout`);
      expect(logout.status).toBe(503);
    } finally {
      await h.authorizer.stop();
      await Promise.all([h.idp.close(), h.echo.close()]);
      const redis = connectRedis(REDIS_TARGET);
      await waitReady(redis);
      await deletePrefix(redis, h.test.prefix);
      redis.disconnect();
    }
  });
});
