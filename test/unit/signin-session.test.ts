import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { sessionCookieName } from '../../authorizer/identity/cookies.js';
import { seal } from '../../authorizer/identity/seal.js';
import {
  createSessionOpener,
  createSessionReader,
  hasEnded,
  newSessionId,
  type Session,
  sessionCookie,
  sessionEndedKey,
} from '../../authorizer/identity/session.js';
import { systemClock } from '../../shared/clock.js';
import type { SlackUserId } from '../../shared/ids.js';
import { redisKeys } from '../../shared/redis/keys.js';
import { generateSigningKeySet, loadSigningKeys, signAccessToken } from '../../shared/tokens/index.js';

const issuer = 'https://access.example.com';
const cookies = { secure: true };
const newKeys = async () => generateSigningKeySet();

function sessionFor(host: string, ttlSec = 3600, now = Math.floor(Date.now() / 1000)): Session {
  return {
    idp: 'https://slack.com',
    sub: 'U0ALICE',
    person: { kind: 'slack', user: 'U0ALICE' as SlackUserId, team: 'T0ACME' },
    email: 'alice@acme.com',
    sid: newSessionId(),
    host,
    iat: now,
    exp: now + ttlSec,
  };
}

/** The request a browser sends to `host` with the given Set-Cookie value's cookie. */
function requestWith(setCookie: string | undefined, host: string): IncomingMessage {
  const cookie = setCookie ? setCookie.split(';')[0] : undefined;
  return { headers: { host, ...(cookie ? { cookie } : {}) } } as IncomingMessage;
}

describe('session cookies', () => {
  it('when a cookie was opened before, then it is answered synchronously (nothing to await) and still checked for host and expiry', async () => {
    const keys = await loadSigningKeys(JSON.stringify(await newKeys()));
    let now = Date.now();
    const deps = { keys, issuer, cookies, clock: { now: () => now } };
    const open = createSessionOpener(deps);
    const session = sessionFor('grafana.example.com', 60, Math.floor(now / 1000));
    const header = (await sessionCookie(deps, session)).split(';')[0]!;
    const first = open(header, 'grafana.example.com');
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toEqual({ ok: true, session });
    expect(open(header, 'grafana.example.com')).toEqual({ ok: true, session });
    expect(open(header, 'kibana.example.com')).toEqual({ ok: false, reason: 'session_other_host' });
    expect(open(undefined, 'grafana.example.com')).toEqual({ ok: false, reason: 'session_missing' });
    now += 61_000;
    expect(open(header, 'grafana.example.com')).toEqual({ ok: false, reason: 'session_expired' });
  });

  it('when a session is sealed, then it reads back on its host, HttpOnly, Lax, Secure, __Host- and ending with the session', async () => {
    const keys = await loadSigningKeys(JSON.stringify(await newKeys()));
    const deps = { keys, issuer, cookies, clock: systemClock };
    const session = sessionFor('grafana.example.com', 600);
    const setCookie = await sessionCookie(deps, session);
    expect(setCookie).toMatch(
      /^__Host-jitgate_session=[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+; HttpOnly; SameSite=Lax; Path=\/; Max-Age=(599|600); Secure$/,
    );
    expect(setCookie).not.toMatch(/Domain/i);
    const found = await createSessionReader(deps)(requestWith(setCookie, 'grafana.example.com:443'));
    expect(found).toEqual({ ok: true, session });
  });

  it('when the public URL is http, then the cookie has no prefix and no Secure', async () => {
    const keys = await loadSigningKeys(JSON.stringify(await newKeys()));
    const setCookie = await sessionCookie(
      { keys, issuer, cookies: { secure: false }, clock: systemClock },
      sessionFor('a'),
    );
    expect(setCookie.startsWith(`${sessionCookieName({ secure: false })}=`)).toBe(true);
    expect(setCookie).not.toMatch(/Secure|__Host-/);
  });

  it('when the cookie is presented on another host, then it is refused as other_host', async () => {
    const keys = await loadSigningKeys(JSON.stringify(await newKeys()));
    const deps = { keys, issuer, cookies, clock: systemClock };
    const setCookie = await sessionCookie(deps, sessionFor('grafana.example.com'));
    expect(await createSessionReader(deps)(requestWith(setCookie, 'kibana.example.com'))).toEqual({
      ok: false,
      reason: 'session_other_host',
    });
  });

  it('when there is no cookie, or a forged, tampered, foreign or expired one, then each is refused with its reason', async () => {
    const set = await newKeys();
    const keys = await loadSigningKeys(JSON.stringify(set));
    const strangers = await loadSigningKeys(JSON.stringify(await newKeys()));
    const deps = { keys, issuer, cookies, clock: systemClock };
    const read = createSessionReader(deps);
    const host = 'access.example.com';
    const name = sessionCookieName(cookies);
    const at = (value: string) => requestWith(`${name}=${value}`, host);

    expect(await read(requestWith(undefined, host))).toEqual({ ok: false, reason: 'session_missing' });
    const good = (await sessionCookie(deps, sessionFor(host))).split(';')[0]!.slice(name.length + 1);
    // One character changed, whatever it was (checking another position made it sometimes the same).
    const tampered = `${good.slice(0, -3)}${good.at(-3) === 'A' ? 'B' : 'A'}${good.slice(-2)}`;
    expect((await read(at(tampered))).ok).toBe(false);
    const parts = good.split('.');
    parts[3] = Buffer.from('{"sub":"U0MALLORY"}').toString('base64url');
    expect(await read(at(parts.join('.')))).toEqual({ ok: false, reason: 'session_invalid' });
    const foreign = (await sessionCookie({ ...deps, keys: strangers }, sessionFor(host)))
      .split(';')[0]!
      .slice(name.length + 1);
    expect(await read(at(foreign))).toEqual({ ok: false, reason: 'session_invalid' });
    const { iat, exp, ...claims } = sessionFor(host);
    const oneHourAgo = { now: () => Date.now() - 3_600_000 };
    const expired = await seal(
      keys,
      'session',
      claims,
      { issuer, expiresAtSec: Math.floor(Date.now() / 1000) - 60 },
      oneHourAgo,
    );
    expect(await read(at(expired))).toEqual({ ok: false, reason: 'session_expired' });
    // An access token signed with the same keys, and a login transaction, are not sessions.
    const token = await signAccessToken(
      keys,
      {
        issuer,
        grantId: 'g_aaaaaaaaaaaaaaaaaaaaaaaaaa' as never,
        user: 'U0ALICE' as never,
        email: 'a@b.c',
        resource: 'app',
        role: 'viewer',
        expiresAt: Date.now() + 60_000,
      },
      systemClock,
    );
    expect(await read(at(token))).toEqual({ ok: false, reason: 'session_invalid' });
    const login = await seal(keys, 'login', { ...claims }, { issuer, expiresAtSec: exp }, systemClock);
    expect(await read(at(login))).toEqual({ ok: false, reason: 'session_invalid' });
    expect(iat).toBeGreaterThan(0);
  });

  it('when the signing keys rotate, then a session sealed by a key still in the set reads, and one whose key left does not', async () => {
    const oldSet = await newKeys();
    const newSet = await newKeys();
    const before = await loadSigningKeys(JSON.stringify(oldSet));
    const rotated = await loadSigningKeys(JSON.stringify({ keys: [...newSet.keys, ...oldSet.keys] }));
    const retired = await loadSigningKeys(JSON.stringify(newSet));
    const host = 'access.example.com';
    const setCookie = await sessionCookie(
      { keys: before, issuer, cookies, clock: systemClock },
      sessionFor(host),
    );
    const readWith = (keys: typeof before) =>
      createSessionReader({ keys, issuer, cookies, clock: systemClock });
    expect((await readWith(rotated)(requestWith(setCookie, host))).ok).toBe(true);
    expect(await readWith(retired)(requestWith(setCookie, host))).toEqual({
      ok: false,
      reason: 'session_invalid',
    });
  });

  it('when a session was read once, then a later use is still refused once it has expired or on another host', async () => {
    const keys = await loadSigningKeys(JSON.stringify(await newKeys()));
    let now = Date.now();
    const clock = { now: () => now };
    const deps = { keys, issuer, cookies, clock, cacheSize: 2 };
    const setCookie = await sessionCookie(deps, sessionFor('access.example.com', 60, Math.floor(now / 1000)));
    const read = createSessionReader(deps);
    expect((await read(requestWith(setCookie, 'access.example.com'))).ok).toBe(true);
    expect(await read(requestWith(setCookie, 'other.example.com'))).toEqual({
      ok: false,
      reason: 'session_other_host',
    });
    now += 61_000;
    expect(await read(requestWith(setCookie, 'access.example.com'))).toEqual({
      ok: false,
      reason: 'session_expired',
    });
  });

  it('when a logout has written the session-ended key, then hasEnded says so from the GET reply alone', () => {
    const keys = redisKeys('jitgate');
    expect(sessionEndedKey(keys, { sid: 'abc' })).toBe('{jitgate}:session-ended:abc');
    expect(hasEnded('1')).toBe(true);
    expect(hasEnded(null)).toBe(false);
  });
});
