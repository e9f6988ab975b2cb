import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { grantCheck } from '../../authorizer/checks/grant.js';
import type { HttpAccess } from '../../authorizer/checks/http.js';
import { tokenElseSession } from '../../authorizer/checks/http.js';
import { roleCheck } from '../../authorizer/checks/role.js';
import { runChecks } from '../../authorizer/checks/run.js';
import { type PersonAccessReader, sessionCheck } from '../../authorizer/checks/session.js';
import { tokenCheck } from '../../authorizer/checks/token.js';
import { createSessionOpener, type Session, sessionCookie } from '../../authorizer/identity/session.js';
import { statusFor } from '../../authorizer/refusals.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore, grantIdOf, type NewRequest } from '../../shared/grants/store.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  generateSigningKeySet,
  loadSigningKeys,
  type SigningKeys,
  signAccessToken,
} from '../../shared/tokens/index.js';
import { type TestRedis, testRedis } from '../support/redis.js';
import { newRequestInput } from '../support/requests.js';
import { api, ISSUER, routed } from './authorizer-checks-fixtures.js';

const HOST = '127.0.0.1:8080';
const ALICE = 'U0ALICE' as SlackUserId;
let keys: SigningKeys;
let t: TestRedis;
let store: AccessStore;

beforeAll(async () => {
  keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
});
beforeEach(async () => {
  t = await testRedis();
  store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
});
afterEach(() => t.cleanup());

const sessionDeps = () => ({ keys, issuer: ISSUER, cookies: { secure: false }, clock: systemClock });

/** A real sealed session cookie (as the callback sets it), as a Cookie header. */
async function signedIn(person: Session['person'], over: Partial<Session> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const session: Session = {
    idp: 'http://idp.test',
    sub: 'sub-1',
    person,
    sid: 'sid-0123456789abcdefghijkl',
    host: '127.0.0.1',
    iat: now,
    exp: now + 3600,
    ...over,
  };
  const set = await sessionCookie(sessionDeps(), session);
  return set.slice(0, set.indexOf(';'));
}

const BY_EMAIL = { kind: 'email', email: 'alice@example.com' } as const;
const BY_SLACK = { kind: 'slack', user: ALICE, team: 'T0ACME' } as const;

/** A grant through the real lifecycle (auto-approved): alice's grafana grant in the role given. */
async function grant(over: Partial<NewRequest> = {}): Promise<GrantId> {
  const req = newRequestInput({ role: 'viewer', ...over });
  const { decision } = await store.transitions.createRequest(req, 'jitgate');
  if (decision.outcome !== 'granted') throw new Error('not granted');
  return grantIdOf(req.id);
}

/** The real store's read, counted. */
function counting(reader: PersonAccessReader) {
  const counted = {
    reads: 0,
    personAccess(...args: Parameters<PersonAccessReader['personAccess']>) {
      counted.reads += 1;
      return reader.personAccess(...args);
    },
  };
  return counted;
}

const check = (reader: PersonAccessReader = store.queries) =>
  sessionCheck({ openSession: createSessionOpener(sessionDeps()), store: reader, clock: systemClock });

const at = (cookies: string, over: Partial<HttpAccess> = {}) => routed({ cookies, host: HOST, ...over });

describe('the session check (real sealed sessions, real Redis)', () => {
  it("when a signed-in person holds a live grant, then it passes with ONE read, setting the grant's identity and expiry, and the grant check reads nothing more", async () => {
    const gid = await grant();
    const reader = counting(store.queries);
    const ctx = at(await signedIn(BY_EMAIL));
    expect(await check(reader)(ctx)).toBeUndefined();
    expect(ctx).toMatchObject({ user: ALICE, email: 'alice@example.com', grantId: gid, roleName: 'viewer' });
    expect(ctx.expiresAt).toBe((await store.queries.liveGrant(gid))!.expiresAt);
    expect(reader.reads).toBe(1);
    // Synchronous: no Redis call, not even an await.
    expect(grantCheck({ store: store.queries, clock: systemClock })(ctx)).toBeUndefined();
  });

  it('when signed in with Slack, then the grant is matched by the Slack user id, and by the workspace when the grant recorded one', async () => {
    await grant({ email: '' });
    expect(await check()(at(await signedIn(BY_SLACK)))).toBeUndefined();
    await t.cleanup();
    t = await testRedis();
    store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
    await grant({ team: 'T0OTHER' });
    const refused = await check()(at(await signedIn(BY_SLACK)));
    expect(refused?.code).toBe('no_grant');
    await grant({ team: 'T0ACME' });
    expect(await check()(at(await signedIn(BY_SLACK)))).toBeUndefined();
  });

  it('when the person holds several grants (roles), then the one whose role allows the request is picked, and only when none does is it method_not_allowed', async () => {
    const viewer = await grant({ role: 'viewer' });
    const editor = await grant({ role: 'editor', durationMs: 30_000 });
    const cookie = await signedIn(BY_EMAIL);
    const checks = [check(), roleCheck];

    const read = at(cookie, { method: 'GET', upstreamPath: '/d/abc' });
    expect(await runChecks(checks, read)).toBeUndefined();
    expect(read.grantId).toBe(viewer);
    const write = at(cookie, { method: 'POST', upstreamPath: '/api/dashboards' });
    expect(await runChecks(checks, write)).toBeUndefined();
    expect(write.grantId).toBe(editor);
    const neither = at(cookie, { method: 'DELETE', upstreamPath: '/d/abc' });
    const refused = await runChecks(checks, neither);
    expect(refused?.code).toBe('method_not_allowed');
  });

  it('when the grant was revoked, has expired, or never existed, then the refusal says which', async () => {
    const cookie = await signedIn(BY_EMAIL);
    const none = await check()(at(cookie));
    expect(none).toMatchObject({ code: 'no_grant', message: 'You have no access to grafana.' });
    expect(statusFor(none!.code)).toBe(403);

    await grant({ durationMs: 1 });
    await new Promise((r) => setTimeout(r, 10));
    expect((await check()(at(cookie)))?.code).toBe('grant_expired');

    const gid = await grant({ durationMs: 60_000 });
    expect(await check()(at(cookie))).toBeUndefined();
    await store.transitions.revoke(gid, 'U0BOSS' as SlackUserId, 'done');
    expect((await check()(at(cookie)))?.code).toBe('grant_revoked');
  });

  it('when there is no session, an expired one, one for another host, or one ended by a logout, then it is refused as needing sign-in', async () => {
    await grant();
    const noSession = at('');
    expect((await check()(noSession))?.code).toBe('token_missing');
    expect(noSession.signInNeeded).toBe(true);

    const otherHost = at(await signedIn(BY_EMAIL, { host: 'elsewhere.test' }));
    expect((await check()(otherHost))?.message).toMatch(/another host/);
    expect(otherHost.signInNeeded).toBe(true);

    const now = Math.floor(Date.now() / 1000);
    const expired = at(await signedIn(BY_EMAIL, { iat: now - 10, exp: now + 1 }));
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await check()(expired))?.message).toMatch(/expired/);

    const cookie = await signedIn(BY_EMAIL, { sid: 'sid-ended-0123456789abcd' });
    await t.redis.set(t.keys.sessionEnded('sid-ended-0123456789abcd'), '1');
    const ended = at(cookie);
    expect((await check()(ended))?.message).toMatch(/signed out/);
    expect(ended.signInNeeded).toBe(true);
    expect(ended.grantId).toBeUndefined();
    // A signed-out session is no session: nothing downstream greets it as signed in.
    expect(ended.session).toBeUndefined();
  });

  it("when an access cookie's token belongs to someone else than the person signed in, then it is refused (a copied cookie)", async () => {
    await grant();
    const ctx = at(await signedIn({ kind: 'email', email: 'mallory@example.com' }), {
      token: 'verified-already',
      tokenFrom: 'cookie',
      user: ALICE,
      email: 'alice@example.com',
    });
    const refused = await check()(ctx);
    expect(refused?.code).toBe('token_invalid');
    expect(refused?.message).toMatch(/issued to someone else.*mallory@example\.com/);
  });

  it('when the resource takes bearer tokens only (a pathPrefix one without browser: shared-origin), then a session gets nothing', async () => {
    const reader = counting(store.queries);
    const refused = await check(reader)(at(await signedIn(BY_EMAIL), { resource: api, upstreamPath: '/x' }));
    expect(refused).toMatchObject({
      code: 'token_missing',
      message: 'api takes bearer tokens only, not a browser sign-in.',
    });
  });

  it('when a bearer-only resource is refused with sign-in on, then the hint gets the token from the redeem link in the signed-in browser, not from a curl that would be refused', async () => {
    const refused = await check()(at(await signedIn(BY_EMAIL), { resource: api, upstreamPath: '/x' }));
    expect(refused?.hint).toContain('api takes bearer tokens only: send Authorization: Bearer <token>');
    expect(refused?.hint).toContain(
      'your redeem link, opened in a browser signed in as yourself, shows the token',
    );
    expect(refused?.hint).not.toContain('Accept: application/json');
  });

  it('when Redis cannot be read, then it refuses as unavailable (fail closed)', async () => {
    await grant();
    const away: PersonAccessReader = {
      personAccess: () => Promise.reject(new Error('connection is closed')),
    };
    const unknown = at(await signedIn(BY_EMAIL));
    expect((await check(away)(unknown))?.code).toBe('unavailable');
    // Whether it was signed out cannot be known: it does not count as signed in.
    expect(unknown.session).toBeUndefined();
  });
});

describe('token, else session', () => {
  const calls: string[] = [];
  /** A token check whose verified claims say `use` (as tokenCheck notes them). */
  const tokenSaying = (use: 'cookie' | undefined) => (ctx: HttpAccess) => {
    calls.push('token');
    ctx.user = ALICE;
    ctx.tokenUse = use;
    return undefined;
  };
  const token = tokenSaying(undefined);
  const session = (_ctx: HttpAccess) => {
    calls.push('session');
    return undefined;
  };
  beforeEach(() => {
    calls.length = 0;
  });

  it('when a token minted for a browser cookie is sent as a bearer token, then it is refused (a copied cookie replayed)', async () => {
    const refused = await tokenElseSession(
      tokenSaying('cookie'),
      session,
    )(routed({ token: 't', tokenFrom: 'bearer' }));
    expect(refused).toMatchObject({
      code: 'token_invalid',
      message: expect.stringMatching(/browser cookie/),
    });
    expect(calls).toEqual(['token']);
  });

  it('when a cookie-minted token is sent as a bearer token, then it is refused after ONE verification (the token check notes its use)', async () => {
    const real = createAccessTokenVerifier({ keys, issuer: ISSUER, clock: systemClock });
    let verifications = 0;
    const counted: AccessTokenVerifier = {
      verify: (tok, resource) => {
        verifications += 1;
        return real.verify(tok, resource);
      },
      stats: real.stats,
    };
    const minted = await signAccessToken(
      keys,
      {
        issuer: ISSUER,
        grantId: `g_${'c'.repeat(26)}` as GrantId,
        user: ALICE,
        email: 'alice@example.com',
        resource: 'grafana',
        role: 'viewer',
        expiresAt: Date.now() + 60_000,
        forCookie: true,
      },
      systemClock,
    );
    const refused = await tokenElseSession(
      tokenCheck(counted),
      session,
    )(routed({ token: minted, tokenFrom: 'bearer' }));
    expect(refused?.message).toMatch(/browser cookie/);
    expect(verifications).toBe(1);
  });

  it('when a bearer token is sent, then only the token decides (command-line use, as before)', async () => {
    await tokenElseSession(token, session)(routed({ token: 't', tokenFrom: 'bearer' }));
    expect(calls).toEqual(['token']);
  });

  it('when no token is sent, then the session decides', async () => {
    await tokenElseSession(token, session)(routed());
    expect(calls).toEqual(['session']);
  });

  it('when the token came in a cookie, then the token is verified and then the session of its holder decides', async () => {
    await tokenElseSession(token, session)(routed({ token: 't', tokenFrom: 'cookie' }));
    expect(calls).toEqual(['token', 'session']);
  });
});
