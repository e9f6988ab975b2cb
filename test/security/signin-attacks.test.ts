import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seal } from '../../authorizer/identity/seal.js';
import { newSessionId } from '../../authorizer/identity/session.js';
import { systemClock } from '../../shared/clock.js';
import { generateSigningKeySet, loadSigningKeys } from '../../shared/tokens/index.js';
import type { Answer, CookieBrowser } from '../support/cookie-browser.js';
import { type CraftedIdp, startCraftedIdp } from '../support/crafted-idp.js';
import {
  ACCESS_HOST,
  HOSTED_HOST,
  type SignInHarness,
  startSignInHarness,
} from '../support/signin-harness.js';

/**
 * Attacks on sign-in, each refused: the login transaction (state, nonce, PKCE, code), the ID token
 * (issuer, audience, algorithm, expiry, signature, unverified e-mail), the session cookie (forged,
 * expired, another host's, after logout) and the return target. A refusal leaves no session.
 */
const RESOURCE = `http://${ACCESS_HOST}/app/`;
const SESSION = 'jitgate_session';

/** Starts a sign-in in `b` and walks the IdP, stopping before the callback: its URL is returned. */
async function untilCallback(b: CookieBrowser, start = RESOURCE): Promise<string> {
  const { last } = await b.follow(start, {
    until: (a) => a.location?.includes('/_jitgate/oauth2/callback') === true,
  });
  if (!last.location?.includes('/_jitgate/oauth2/callback'))
    throw new Error(`no callback: ${last.status} ${last.url}`);
  return last.location;
}

function expectRefused(answer: Answer, status: number, pattern: RegExp): void {
  expect(answer.status).toBe(status);
  expect(answer.body).toMatch(pattern);
  expect(answer.cookies.some((c) => c.includes('jitgate_session=') && !c.includes('Max-Age=0'))).toBe(false);
}

describe('sign-in attacks against a real OpenID provider', () => {
  let h: SignInHarness;
  beforeAll(async () => {
    h = await startSignInHarness({
      users: [
        { sub: 'alice', email: 'alice@example.com', email_verified: true },
        { sub: 'mallory', email: 'mallory@example.com', email_verified: true },
        { sub: 'unverified', email: 'eve@example.com', email_verified: false },
      ],
    });
  });
  afterAll(() => h.close());

  it('when the callback carries no state, then it is refused', async () => {
    const b = h.browser();
    const callback = new URL(await untilCallback(b));
    callback.searchParams.delete('state');
    expectRefused(await b.get(callback.href), 400, /carried no state/);
    expect(b.cookie(ACCESS_HOST, SESSION)).toBeUndefined();
  });

  it('when a used callback is replayed with its transaction cookie, then it is refused (a transaction works once)', async () => {
    const b = h.browser();
    h.idp.signInAs('alice');
    const callback = await untilCallback(b);
    const [name, value] = [...b.jar.get(ACCESS_HOST)!.entries()].find(([n]) =>
      n.startsWith('jitgate_login_'),
    )!;
    expect((await b.get(callback)).status).toBe(303);
    const replayer = h.browser();
    replayer.setCookie(ACCESS_HOST, name, value.value, value.path);
    expectRefused(await replayer.get(callback), 400, /already used/);
  });

  it("when a callback carries another browser's state, then it is refused (its transaction is not in this browser)", async () => {
    const victim = h.browser();
    const attacker = h.browser();
    await untilCallback(victim); // the victim started a sign-in of their own
    h.idp.signInAs('mallory');
    const attackersCallback = await untilCallback(attacker);
    expectRefused(await victim.get(attackersCallback), 400, /not started in this browser/);
    expect(victim.cookie(ACCESS_HOST, SESSION)).toBeUndefined();
  });

  it('when a victim is made to open a callback they never started (login CSRF), then nobody is signed in', async () => {
    const attacker = h.browser();
    h.idp.signInAs('mallory');
    const callback = await untilCallback(attacker);
    const victim = h.browser();
    expectRefused(await victim.get(callback), 400, /not started in this browser/);
    expect(victim.cookie(ACCESS_HOST, SESSION)).toBeUndefined();
    // And the attacker's own transaction is unspent: nothing was consumed by the refused attempt.
    expect((await attacker.get(callback)).status).toBe(303);
  });

  it("when a stolen code is injected into the attacker's own transaction, then the PKCE verifier does not match and the IdP refuses", async () => {
    const victim = h.browser();
    h.idp.signInAs('alice');
    const victimsCode = new URL(await untilCallback(victim)).searchParams.get('code')!;
    const attacker = h.browser();
    h.idp.signInAs('mallory');
    const own = new URL(await untilCallback(attacker));
    own.searchParams.set('code', victimsCode); // state matches the attacker's transaction; the verifier does not
    expectRefused(await attacker.get(own.href), 400, /identity provider refused: invalid_grant/);
    expect(attacker.cookie(ACCESS_HOST, SESSION)).toBeUndefined();
  });

  it('when a code that was already exchanged is presented again in a new transaction, then the IdP refuses it', async () => {
    const b = h.browser();
    h.idp.signInAs('alice');
    const first = new URL(await untilCallback(b));
    expect((await b.get(first.href)).status).toBe(303);
    b.jar.get(ACCESS_HOST)?.delete(SESSION);
    const second = new URL(await untilCallback(b));
    second.searchParams.set('code', first.searchParams.get('code')!);
    expectRefused(await b.get(second.href), 400, /invalid_grant/);
  });

  it('when the IdP does not say the e-mail is verified, then sign-in is refused with a page that says why', async () => {
    const b = h.browser();
    h.idp.signInAs('unverified');
    const answer = await b.get(await untilCallback(b));
    expectRefused(answer, 403, /eve@example\.com is verified/);
    expect(answer.headers['content-type']).toMatch(/text\/html/);
  });

  describe('session cookies', () => {
    const sealedSession = async (
      keys: SignInHarness['keys'],
      host: string,
      expiresAtSec: number,
      clock = systemClock,
    ) =>
      seal(
        keys,
        'session',
        {
          idp: h.idp.issuer,
          sub: 'mallory',
          person: { kind: 'email', email: 'alice@example.com' },
          sid: newSessionId(),
          host,
        },
        { issuer: h.publicUrl, expiresAtSec },
        clock,
      );

    it('when a session cookie is forged (garbage, or sealed with keys jitgate does not hold), then the browser is sent to sign in', async () => {
      const strangers = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
      for (const forged of [
        'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.AAAA.AAAA',
        await sealedSession(strangers, ACCESS_HOST, Math.floor(Date.now() / 1000) + 600),
      ]) {
        const b = h.browser();
        b.setCookie(ACCESS_HOST, SESSION, forged);
        const answer = await b.get(RESOURCE);
        expect(answer.status).toBe(303);
        expect(new URL(answer.location!).origin).toBe(h.idp.issuer);
      }
    });

    it('when a session cookie has expired, then it no longer counts', async () => {
      const hourAgo = { now: () => Date.now() - 3_600_000 };
      const expired = await sealedSession(h.keys, ACCESS_HOST, Math.floor(Date.now() / 1000) - 60, hourAgo);
      const b = h.browser();
      b.setCookie(ACCESS_HOST, SESSION, expired);
      expect(new URL((await b.get(RESOURCE)).location!).origin).toBe(h.idp.issuer);
    });

    it("when one host's session cookie is presented on another host, then it does not count there", async () => {
      const b = h.browser();
      h.idp.signInAs('alice');
      await b.follow(RESOURCE);
      const accessCookie = b.cookie(ACCESS_HOST, SESSION)!;
      const thief = h.browser();
      thief.setCookie(HOSTED_HOST, SESSION, accessCookie);
      const answer = await thief.get(`http://${HOSTED_HOST}/d/1`);
      expect(answer.status).toBe(303);
      expect(answer.location).toMatch(new RegExp(`^http://${ACCESS_HOST}/_jitgate/signin\\?return=`));
    });

    it('when a session cookie is used after its logout, then it does not count on any host', async () => {
      const b = h.browser();
      h.idp.signInAs('alice');
      await b.follow(`http://${HOSTED_HOST}/d/1`);
      const copies = { access: b.cookie(ACCESS_HOST, SESSION)!, hosted: b.cookie(HOSTED_HOST, SESSION)! };
      expect((await b.get(`http://${HOSTED_HOST}/_jitgate/logout`, { method: 'POST' })).status).toBe(200);
      const thief = h.browser();
      thief.setCookie(ACCESS_HOST, SESSION, copies.access);
      thief.setCookie(HOSTED_HOST, SESSION, copies.hosted);
      expect(new URL((await thief.get(RESOURCE)).location!).origin).toBe(h.idp.issuer);
      expect((await thief.get(`http://${HOSTED_HOST}/d/1`)).location).toMatch(/\/_jitgate\/signin\?return=/);
    });
  });

  describe('return targets', () => {
    it.each([
      ['//evil.example.com/x'],
      ['https://evil.example.com/x'],
      ['http://evil.example.com/x'],
      ['/\\evil.example.com/x'],
      ['/%2F%2Fevil.example.com/x'],
      ['%2F%2Fevil.example.com'],
      ['/%5Cevil.example.com'],
      ['http://access.test.local@evil.example.com/'],
      ['/app/\r\nLocation: https://evil.example.com'],
      ['/app/%0d%0aLocation:%20https://evil.example.com'],
    ])('when sign-in is asked to return to %j, then it is refused before the IdP', async (target) => {
      const b = h.browser();
      const answer = await b.get(
        `http://${ACCESS_HOST}/_jitgate/signin?return=${encodeURIComponent(target)}`,
      );
      expectRefused(answer, 400, /only returns to this service/);
      expect(answer.location).toBeUndefined();
    });

    it('when the callback is given a return target of its own, then it is ignored: the browser goes back where it started', async () => {
      const b = h.browser();
      h.idp.signInAs('alice');
      const callback = new URL(await untilCallback(b, `http://${ACCESS_HOST}/app/start`));
      for (const name of ['return', 'next', 'redirect', 'returnTo', 'redirect_uri']) {
        callback.searchParams.set(name, 'https://evil.example.com/');
      }
      expect((await b.get(callback.href)).location).toBe(`http://${ACCESS_HOST}/app/start`);
    });

    it('when a resource path itself tries to name another origin, then it never becomes a redirect elsewhere', async () => {
      const b = h.browser();
      for (const path of ['//evil.example.com/', '/app//evil.example.com', '/app/%2F%2Fevil.example.com']) {
        const answer = await b.get(`http://${ACCESS_HOST}${path}`);
        if (answer.location) expect(new URL(answer.location).host).not.toBe('evil.example.com');
        if (answer.location?.startsWith(h.idp.issuer)) {
          // The IdP's redirect_uri is always jitgate's own callback.
          expect(new URL(answer.location).searchParams.get('redirect_uri')).toBe(
            `http://${ACCESS_HOST}/_jitgate/oauth2/callback`,
          );
        }
      }
    });
  });
});

describe('sign-in attacks with ID tokens a real IdP would not issue', () => {
  let crafted: CraftedIdp;
  let h: SignInHarness;
  beforeAll(async () => {
    crafted = await startCraftedIdp();
    h = await startSignInHarness({
      users: [],
      issuer: { url: crafted.issuer, clientId: crafted.clientId, clientSecret: crafted.clientSecret },
    });
  });
  afterAll(async () => {
    await h.close();
    await crafted.close();
  });

  async function signInWith(craft: CraftedIdp['craft']): Promise<Answer> {
    crafted.craft = craft;
    const b = h.browser();
    const { last } = await b.follow(RESOURCE, { until: (a) => a.url.includes('/_jitgate/oauth2/callback') });
    expect(b.cookie(ACCESS_HOST, SESSION)).toBeUndefined();
    return last;
  }

  it('when the ID token is well formed, then the crafted IdP signs a person in (the control case)', async () => {
    const b = h.browser();
    crafted.craft = ({ claims, sign }) => sign(claims);
    await b.follow(RESOURCE);
    expect(b.cookie(ACCESS_HOST, SESSION)).toBeDefined();
  });

  it('when the ID token was issued by another issuer, then it is refused', async () => {
    expectRefused(
      await signInWith(({ claims, sign }) => sign({ ...claims, iss: 'https://evil.example.com' })),
      400,
      /iss&quot; \(issuer\) claim/,
    );
  });

  it('when the ID token is for another audience, then it is refused', async () => {
    expectRefused(
      await signInWith(({ claims, sign }) => sign({ ...claims, aud: 'another-client' })),
      400,
      /aud&quot; \(audience\) claim/,
    );
  });

  it('when the ID token is unsigned (alg: none), then it is refused', async () => {
    expectRefused(
      await signInWith(({ claims, sign }) => sign(claims, { alg: 'none' })),
      400,
      /alg&quot; header parameter/,
    );
  });

  it('when the ID token has expired, then it is refused', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    expectRefused(
      await signInWith(({ claims, sign }) => sign({ ...claims, iat: past - 300, exp: past })),
      400,
      /exp&quot; \(expiration time\) claim/,
    );
  });

  it('when the ID token carries another nonce, then it is refused', async () => {
    expectRefused(
      await signInWith(({ claims, sign }) => sign({ ...claims, nonce: 'not-the-one-sent' })),
      400,
      /nonce&quot; claim value/,
    );
  });

  it('when the ID token is signed with a key the IdP does not publish, then it is refused', async () => {
    expectRefused(
      await signInWith(({ claims, sign }) => sign(claims, { key: 'stranger' })),
      400,
      /signature verification failed/,
    );
  });

  it('when the ID token says email_verified: false, then sign-in is refused and says why', async () => {
    expectRefused(
      await signInWith(({ claims, sign }) => sign({ ...claims, email_verified: false })),
      403,
      /is verified/,
    );
  });
});
