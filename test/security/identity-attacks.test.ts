import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewRequest } from '../../shared/grants/store.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import type { Answer, CookieBrowser } from '../support/cookie-browser.js';
import { type CraftedIdp, startCraftedIdp } from '../support/crafted-idp.js';
import {
  ACCESS_HOST,
  HOSTED_HOST,
  type SignInHarness,
  startSignInHarness,
} from '../support/signin-harness.js';
import { countFigures } from './figures.js';

/**
 * Identity at the proxy, attacked from outside: a real authorizer (startSystem) signing in at a real
 * OpenID provider, grants minted by the real store in real Redis, an echo upstream that shows what
 * reached it. Who is at the browser must never be confused with who holds the grant: copied
 * cookies, moved sessions, handoff codes, look-alike addresses, lifetimes, and what floods cost.
 */
countFigures('attack');

const ALICE = { sub: 'idp-alice', email: 'alice@example.com', email_verified: true, name: 'Alice' };
const BOB = { sub: 'idp-bob', email: 'bob@example.com', email_verified: true, name: 'Bob' };
const KAREN = { sub: 'idp-karen', email: 'karen@example.com', email_verified: true };
// U+212A KELVIN SIGN: lower-cases to a plain "k", so this address reads as karen@example.com.
const KELVIN = { sub: 'idp-kelvin', email: '\u212Aaren@example.com', email_verified: true };
const HOSTED = `http://${HOSTED_HOST}`;
const SHARED = `http://${ACCESS_HOST}/shared`;
const SESSION = 'jitgate_session';
const JSON_ACCEPT = 'application/json';

let h: SignInHarness;
beforeAll(async () => {
  h = await startSignInHarness({ users: [ALICE, BOB, KAREN, KELVIN], sessionTtlMs: 3_600_000 });
});
afterAll(() => h.close());

async function signedIn(sub: string, url: string): Promise<CookieBrowser> {
  h.idp.signInAs(sub);
  const b = h.browser();
  const { last } = await b.follow(url);
  expect(new URL(last.url).host).toBe(new URL(url).host);
  return b;
}

const grant = async (over: Partial<NewRequest> = {}): Promise<GrantId> => (await h.grant(over)).gid;

const echoed = (a: Answer) => JSON.parse(a.body) as { headers: Record<string, string>; path: string };

/** The keys under this test's prefix, to see what a flood wrote. */
/**
 * Keys under the test's prefix, but for the per-minute refusal counts (every refused request is
 * counted there: one small hash a minute, whatever the traffic, not a write per request) and the
 * job queue's meta key (BullMQ writes it once when the authorizer's queue first connects, which may
 * fall inside a test that runs first).
 */
async function keyCount(): Promise<number> {
  let cursor = '0';
  let n = 0;
  const counts = h.test.keys.refusalCounts(0).replace(/0$/, '');
  const notPerRequest = (k: string) =>
    k.startsWith(counts) || (k.startsWith(`${h.test.keys.queuePrefix}:`) && k.endsWith(':meta'));
  do {
    const [next, found] = await h.test.redis.scan(cursor, 'MATCH', h.test.keys.everyKey, 'COUNT', 1000);
    cursor = next;
    n += found.filter((k) => !notPerRequest(k)).length;
  } while (cursor !== '0');
  return n;
}

/** Alice's access cookie for `shared`, set by a browser redeem while she is signed in. */
async function alicesAccessCookie(): Promise<{ alice: CookieBrowser; token: string }> {
  const gid = await grant({ resource: 'shared', role: 'viewer' });
  const alice = await signedIn(ALICE.sub, `${SHARED}/`);
  const code = await h.store.codes.createRedeemCode(gid);
  await alice.follow(`http://${ACCESS_HOST}/_jitgate/redeem?code=${code}`);
  const token = alice.cookie(ACCESS_HOST, 'jitgate_shared');
  expect(token).toMatch(/^ey/);
  return { alice, token: token! };
}

describe('identity confusion', () => {
  it("when Alice's access cookie is copied into Bob's signed-in browser, then Bob gets nothing", async () => {
    const { token } = await alicesAccessCookie();
    const bob = await signedIn(BOB.sub, `${SHARED}/`);
    bob.setCookie(ACCESS_HOST, 'jitgate_shared', token, '/shared');
    const answer = await bob.get(`${SHARED}/x`, { accept: JSON_ACCEPT });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/issued to someone else/);
  });

  it("when Alice's access cookie is copied into a browser with no session, then it is sent to sign in, never through", async () => {
    const { token } = await alicesAccessCookie();
    const thief = h.browser();
    thief.setCookie(ACCESS_HOST, 'jitgate_shared', token, '/shared');
    const page = await thief.get(`${SHARED}/x`);
    expect(page.status).toBe(303);
    expect(new URL(page.location!).origin).toBe(h.idp.issuer);
    expect((await thief.get(`${SHARED}/x`, { accept: JSON_ACCEPT })).status).toBe(401);
  });

  it("when Alice's access cookie is replayed as a bearer token (curl, no session), then it is refused: a cookie is not a bearer token", async () => {
    const { token } = await alicesAccessCookie();
    const thief = h.browser();
    const answer = await thief.get(`${SHARED}/x`, {
      accept: JSON_ACCEPT,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(answer.status).toBe(401);
    expect(answer.body).toMatch(/browser cookie/);
  });

  it("when Alice's redeem link is forwarded, then Bob signed in, nobody from a command line, and Alice's other browser before she signs in all get nothing, and the link still works for Alice", async () => {
    const gid = await grant({ resource: 'shared', role: 'viewer' });
    const link = `http://${ACCESS_HOST}/_jitgate/redeem?code=${await h.store.codes.createRedeemCode(gid)}`;
    const bob = await signedIn(BOB.sub, `${SHARED}/`);
    const byBob = await bob.get(link);
    expect(byBob.status).toBe(403);
    expect(bob.cookie(ACCESS_HOST, 'jitgate_shared')).toBeUndefined();
    const curl = await h.browser().get(link, { accept: JSON_ACCEPT });
    expect(curl.status).toBe(401);
    expect(curl.body).not.toMatch(/"token"/);
    const otherBrowser = h.browser();
    const first = await otherBrowser.get(link);
    expect(first.status).toBe(303);
    expect(otherBrowser.cookie(ACCESS_HOST, 'jitgate_shared')).toBeUndefined();
    // Nothing was used: Alice, signed in, redeems it.
    const alice = await signedIn(ALICE.sub, `${SHARED}/`);
    await alice.follow(link);
    expect(alice.cookie(ACCESS_HOST, 'jitgate_shared')).toMatch(/^ey/);
  });

  it('when an access cookie is moved to another host or resource, then it is not read there', async () => {
    const { token } = await alicesAccessCookie();
    const thief = h.browser();
    thief.setCookie(HOSTED_HOST, 'jitgate_shared', token);
    thief.setCookie(HOSTED_HOST, 'jitgate_hosted', token);
    thief.setCookie(ACCESS_HOST, 'jitgate_app', token);
    // Another resource's cookie name is not read; the token's audience would not match anyway.
    expect([401, 403]).toContain((await thief.get(`${HOSTED}/`, { accept: JSON_ACCEPT })).status);
    // A bearer-only resource takes no cookie at all.
    expect([401, 403]).toContain(
      (await thief.get(`http://${ACCESS_HOST}/app/`, { accept: JSON_ACCEPT })).status,
    );
  });

  it("when someone signs in with a look-alike address (a Kelvin sign for the k of karen@), then they never get Karen's grants", async () => {
    await grant({ requester: 'U0KAREN' as SlackUserId, email: 'karen@example.com' });
    h.idp.signInAs(KELVIN.sub);
    const b = h.browser();
    const { last } = await b.follow(`${HOSTED}/`);
    if (b.cookie(HOSTED_HOST, SESSION)) {
      const answer = await b.get(`${HOSTED}/`, { accept: JSON_ACCEPT });
      expect(answer.status).not.toBe(200);
    } else {
      expect(last.status).toBe(403);
    }
    // The control: Karen herself gets in.
    const karen = await signedIn(KAREN.sub, `${HOSTED}/`);
    expect((await karen.get(`${HOSTED}/`)).status).toBe(200);
  });

  it("when the same address is written in another case at the IdP, then it is the same person (and nobody else's)", async () => {
    h.idp.addUser({ sub: 'idp-bob-upper', email: 'BOB@Example.COM', email_verified: true });
    await grant({
      requester: 'U0BOB' as SlackUserId,
      email: 'bob@example.com',
      resource: 'shared',
      role: 'viewer',
    });
    const bob = await signedIn('idp-bob-upper', `${SHARED}/`);
    const answer = await bob.get(`${SHARED}/y`);
    expect(answer.status).toBe(200);
    expect(echoed(answer).headers['x-jit-user']).toBe('U0BOB');
  });

  it('when the browser sends its own X-JIT-* identity and our cookies, then the upstream sees only the grant holder and no jitgate cookie', async () => {
    await grant({ resource: 'shared', role: 'viewer' });
    const alice = await signedIn(ALICE.sub, `${SHARED}/`);
    const answer = await alice.get(`${SHARED}/z`, {
      headers: {
        'x-jit-user': 'U0BOSS',
        'x-jit-email': 'boss@example.com',
        'x-jit-role': 'admin',
        'x-jit-grant': 'g_forged',
        'x-jit-admin': 'yes',
      },
    });
    expect(answer.status).toBe(200);
    const seen = echoed(answer).headers;
    expect(seen['x-jit-user']).toBe('U0ALICE');
    expect(seen['x-jit-email']).toBe('alice@example.com');
    expect(seen['x-jit-role']).toBe('viewer');
    expect(seen['x-jit-admin']).toBeUndefined();
    expect(seen.cookie ?? '').not.toMatch(/jitgate_/);
  });
});

describe('sessions moved and ended', () => {
  it('when a session cookie is moved from the sign-in host to a resource host, or from a resource host to the sign-in host, then it does not count', async () => {
    await grant({ resource: 'shared', role: 'viewer' });
    await grant();
    const alice = await signedIn(ALICE.sub, `${HOSTED}/`);
    const onHosted = alice.cookie(HOSTED_HOST, SESSION)!;
    const onAccess = alice.cookie(ACCESS_HOST, SESSION)!;
    expect(onHosted).not.toBe(onAccess);
    const thief = h.browser();
    thief.setCookie(ACCESS_HOST, SESSION, onHosted);
    thief.setCookie(HOSTED_HOST, SESSION, onAccess);
    expect((await thief.get(`${SHARED}/`, { accept: JSON_ACCEPT })).status).toBe(401);
    expect((await thief.get(`${HOSTED}/`, { accept: JSON_ACCEPT })).status).toBe(401);
  });

  it('when a session cookie is presented under the https name (__Host-) to an http authorizer, then it is not read', async () => {
    await grant({ resource: 'shared', role: 'viewer' });
    const alice = await signedIn(ALICE.sub, `${SHARED}/`);
    const thief = h.browser();
    thief.setCookie(ACCESS_HOST, '__Host-jitgate_session', alice.cookie(ACCESS_HOST, SESSION)!);
    expect((await thief.get(`${SHARED}/`, { accept: JSON_ACCEPT })).status).toBe(401);
  });

  it('when the person logs out on the sign-in host, then the session handed to a resource host ends too', async () => {
    await grant();
    const alice = await signedIn(ALICE.sub, `${HOSTED}/`);
    expect((await alice.get(`${HOSTED}/`)).status).toBe(200);
    const copy = alice.cookie(HOSTED_HOST, SESSION)!;
    expect((await alice.get(`http://${ACCESS_HOST}/_jitgate/logout`, { method: 'POST' })).status).toBe(200);
    const thief = h.browser();
    thief.setCookie(HOSTED_HOST, SESSION, copy);
    expect((await thief.get(`${HOSTED}/`, { accept: JSON_ACCEPT })).status).toBe(401);
    expect((await alice.get(`${HOSTED}/`, { accept: JSON_ACCEPT })).status).toBe(401);
  });

  it('when a logged-out session tries the sign-in route, then it is not used to hand a session to another host', async () => {
    const alice = await signedIn(ALICE.sub, `http://${ACCESS_HOST}/app/`);
    const copy = alice.cookie(ACCESS_HOST, SESSION)!;
    await alice.get(`http://${ACCESS_HOST}/_jitgate/logout`);
    const thief = h.browser();
    thief.setCookie(ACCESS_HOST, SESSION, copy);
    const { chain } = await thief.follow(
      `http://${ACCESS_HOST}/_jitgate/signin?return=${encodeURIComponent(`${HOSTED}/`)}`,
      { until: (a) => a.location?.startsWith(h.idp.issuer) === true },
    );
    expect(new URL(chain.at(-1)!.location!).origin).toBe(h.idp.issuer);
    expect(chain.some((a) => a.location?.includes('/_jitgate/session?code=') === true)).toBe(false);
  });
});

describe('the host handoff', () => {
  /** Alice signed in on the sign-in host, and a handoff URL for the hosted resource, not yet opened. */
  async function handoffUrl(sub = ALICE.sub): Promise<{ b: CookieBrowser; url: string }> {
    const b = await signedIn(sub, `http://${ACCESS_HOST}/app/`);
    const { last } = await b.follow(
      `http://${ACCESS_HOST}/_jitgate/signin?return=${encodeURIComponent(`${HOSTED}/d`)}`,
      { until: (a) => a.location?.includes('/_jitgate/session?code=') === true },
    );
    expect(last.status).toBe(303);
    expect(last.location).toMatch(new RegExp(`^${HOSTED}/_jitgate/session\\?code=[\\w-]{43}$`));
    expect(last.headers['referrer-policy']).toBe('no-referrer');
    expect(last.headers['cache-control']).toBe('no-store');
    return { b, url: last.location! };
  }

  it('when a handoff code is replayed, then the second use is refused', async () => {
    const { b, url } = await handoffUrl();
    expect((await b.get(url)).status).toBe(303);
    const again = h.browser();
    again.jar.set(HOSTED_HOST, new Map(b.jar.get(HOSTED_HOST))); // even with the binding cookie
    again.jar.get(HOSTED_HOST)!.delete(SESSION);
    const answer = await again.get(url);
    expect(answer.status).toBe(404);
    expect(again.cookie(HOSTED_HOST, SESSION)).toBeUndefined();
  });

  it('when a handoff code is opened on another host, then it is refused there and spent', async () => {
    const { b, url } = await handoffUrl();
    const elsewhere = url.replace(HOSTED_HOST, ACCESS_HOST);
    expect((await h.browser().get(elsewhere)).status).toBe(404);
    expect((await b.get(url)).status).toBe(404);
  });

  it("when Mallory gets Bob to open Mallory's own handoff link, then Bob is not signed in as Mallory (login CSRF on a resource host)", async () => {
    const { url } = await handoffUrl(BOB.sub); // the attacker's own code, not opened
    const victim = h.browser();
    const answer = await victim.get(url);
    expect(answer.status).toBe(404);
    expect(answer.body).toMatch(/another host or browser/);
    expect(victim.cookie(HOSTED_HOST, SESSION)).toBeUndefined();
  });
  it('when handoff codes are guessed or malformed, then each is refused and nobody gets a cookie', async () => {
    const b = h.browser();
    for (const code of [
      randomBytes(32).toString('base64url'),
      'A'.repeat(43),
      '',
      `${randomBytes(32).toString('base64url')}%0d%0aSet-Cookie:%20x=1`,
      'x'.repeat(5000),
    ]) {
      const answer = await b.get(`${HOSTED}/_jitgate/session?code=${code}`);
      expect(answer.status).toBe(404);
      expect(answer.cookies.filter((c) => !c.includes('Max-Age=0'))).toEqual([]);
    }
  });
});

describe('callbacks with mixed-up parameters', () => {
  /** Walks a fresh sign-in up to its callback, which is returned unopened. */
  async function pendingCallback(): Promise<{ b: CookieBrowser; callback: URL }> {
    const b = h.browser();
    h.idp.signInAs(ALICE.sub);
    const { last } = await b.follow(`http://${ACCESS_HOST}/app/`, {
      until: (a) => a.location?.includes('/_jitgate/oauth2/callback') === true,
    });
    return { b, callback: new URL(last.location!) };
  }

  it.each([
    ['a second state', (u: URL) => u.searchParams.append('state', 'x'.repeat(43))],
    ['a second code', (u: URL) => u.searchParams.append('code', 'forged')],
    ['an error beside the code', (u: URL) => u.searchParams.set('error', 'access_denied')],
    ['another issuer named', (u: URL) => u.searchParams.set('iss', 'https://evil.example.com')],
    ['no code', (u: URL) => u.searchParams.delete('code')],
    [
      'a response in the fragment style',
      (u: URL) => u.searchParams.set('id_token', 'eyJhbGciOiJub25lIn0.e30.'),
    ],
  ])('when the callback carries %s, then nobody is signed in', async (_what, mix) => {
    const { b, callback } = await pendingCallback();
    mix(callback);
    const answer = await b.get(callback.href);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(b.cookie(ACCESS_HOST, SESSION)).toBeUndefined();
  });
});

describe('return targets that try to leave', () => {
  it.each([
    [`http://${HOSTED_HOST}.evil.example.com/`],
    [`http://evil.example.com#@${HOSTED_HOST}/`],
    [`http://evil.example.com?@${HOSTED_HOST}/`],
    [`http://${HOSTED_HOST}:8080/`],
    [`https://${HOSTED_HOST}/`],
    [`http:\\\\evil.example.com`],
    [`http:/\\evil.example.com/`],
    ['HTTP://EVIL.EXAMPLE.COM/'],
    ['javascript:alert(1)'],
    ['data:text/html,<script>alert(1)</script>'],
    ['/app/\u2028Location: http://evil.example.com'],
    ['/%09/evil.example.com'],
    ['/\t/evil.example.com'],
    [`http://${HOSTED_HOST}/%2F%2Fevil.example.com`],
  ])('when sign-in is asked to return to %j, then it is refused or stays on our hosts', async (target) => {
    const answer = await h
      .browser()
      .get(`http://${ACCESS_HOST}/_jitgate/signin?return=${encodeURIComponent(target)}`);
    if (answer.status === 303) {
      const to = new URL(answer.location!);
      expect([h.idp.issuer, `http://${ACCESS_HOST}`, HOSTED]).toContain(to.origin);
      if (to.origin === h.idp.issuer)
        expect(to.searchParams.get('redirect_uri')).toBe(`http://${ACCESS_HOST}/_jitgate/oauth2/callback`);
    } else {
      expect(answer.status).toBe(400);
    }
  });
});

describe('floods', () => {
  it('when 200 sign-ins are started and 200 bogus callbacks arrive, then none of them writes to Redis', async () => {
    const before = await keyCount();
    const b = h.browser();
    for (let i = 0; i < 200; i++) {
      const started = await b.get(`http://${ACCESS_HOST}/app/p${i}`);
      expect(started.status).toBe(303);
    }
    for (let i = 0; i < 200; i++) {
      const state = randomBytes(32).toString('base64url');
      const answer = await h
        .browser()
        .get(`http://${ACCESS_HOST}/_jitgate/oauth2/callback?state=${state}&code=x`);
      expect(answer.status).toBe(400);
    }
    expect(await keyCount()).toBe(before);
  });

  it('when sign-ins are started and each callback carries its real state and transaction cookie but a made-up code, then none of them writes to Redis, and a real sign-in still completes', async () => {
    const before = await keyCount();
    for (let i = 0; i < 30; i++) {
      const b = h.browser();
      const started = await b.get(`http://${ACCESS_HOST}/app/m${i}`);
      expect(started.status).toBe(303);
      const state = new URL(started.location!).searchParams.get('state');
      const answer = await b.get(
        `http://${ACCESS_HOST}/_jitgate/oauth2/callback?state=${state}&code=${randomBytes(16).toString('hex')}`,
      );
      expect(answer.status).toBe(400);
      expect(b.cookie(ACCESS_HOST, SESSION)).toBeUndefined();
    }
    expect(await keyCount()).toBe(before);
    const b = h.browser();
    h.idp.signInAs(ALICE.sub);
    const { last } = await b.follow(`http://${ACCESS_HOST}/app/after`);
    expect(last.url).toBe(`http://${ACCESS_HOST}/app/after`);
    expect(b.cookie(ACCESS_HOST, SESSION)).toBeDefined();
  });

  it('when 60 sign-ins are started in one browser (tabs restored, or a page looping), then the callback still fits and the latest sign-in completes', async () => {
    const b = h.browser();
    for (let i = 0; i < 60; i++) expect((await b.get(`http://${ACCESS_HOST}/app/tab${i}`)).status).toBe(303);
    const pending = [...b.jar.get(ACCESS_HOST)!.keys()].filter((n) => /^jitgate_login_[\w-]{16}$/.test(n));
    expect(pending.length).toBeLessThanOrEqual(8);
    h.idp.signInAs(ALICE.sub);
    const { last } = await b.follow(`http://${ACCESS_HOST}/app/last`);
    expect(last.status).not.toBe(431);
    expect(last.url).toBe(`http://${ACCESS_HOST}/app/last`);
    expect(b.cookie(ACCESS_HOST, SESSION)).toBeDefined();
  });

  it('when a request carries a huge cookie header or thousands of cookies, then it is refused and the authorizer still answers', async () => {
    const raw = (cookie: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: h.authorizerPort,
            path: '/shared/',
            headers: { host: ACCESS_HOST, cookie },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await raw(`${SESSION}=${'A'.repeat(100_000)}`)).toBe(431);
    expect(await raw(`${SESSION}=${'x.'.repeat(2000)}`)).toBe(401);
    expect(await raw(Array.from({ length: 1500 }, (_, i) => `c${i}=1`).join('; '))).toBe(401);
    expect((await h.browser().get(`${SHARED}/`, { accept: JSON_ACCEPT })).status).toBe(401);
  });
});

describe('sign-in with ID tokens that stretch the rules', () => {
  let crafted: CraftedIdp;
  let c: SignInHarness;
  beforeAll(async () => {
    crafted = await startCraftedIdp();
    c = await startSignInHarness({
      users: [],
      issuer: { url: crafted.issuer, clientId: crafted.clientId, clientSecret: crafted.clientSecret },
    });
  });
  afterAll(async () => {
    await c.close();
    await crafted.close();
  });

  it.each([
    ['email_verified as the string "true"', { email_verified: 'true' }],
    ['email_verified as 1', { email_verified: 1 }],
    ['an e-mail with a Kelvin sign', { email: '\u212Aaren@example.com' }],
    ['an e-mail with a dotless capital I', { email: 'AL\u0130CE@example.com' }],
    ['two e-mails in an array', { email: ['alice@example.com'] }],
  ])('when the ID token carries %s, then nobody is signed in', async (_what, extra) => {
    crafted.craft = ({ claims, sign }) => sign({ ...claims, ...extra });
    const b = c.browser();
    const { last } = await b.follow(`http://${ACCESS_HOST}/app/`);
    expect(last.status).toBe(403);
    expect(b.cookie(ACCESS_HOST, SESSION)).toBeUndefined();
  });
});
