import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { transactionCookieName } from '../../authorizer/identity/cookies.js';
import { sessionCookie } from '../../authorizer/identity/session.js';
import {
  claimTransaction,
  type LoginTransaction,
  transactionCookie,
} from '../../authorizer/identity/transaction.js';
import { systemClock } from '../../shared/clock.js';
import type { SlackUserId } from '../../shared/ids.js';
import { connectRedis } from '../../shared/redis/connect.js';
import { generateSigningKeySet, loadSigningKeys, type SigningKeys } from '../../shared/tokens/index.js';
import { REDIS_URL, type TestRedis, testRedis } from '../support/redis.js';

const issuer = 'https://access.example.com';
const cookies = { secure: true };
const random = (n: number) => Buffer.alloc(n, 7).toString('base64url');

function transaction(state: string, path = '/app/d/x?from=now-6h&to=now'): LoginTransaction {
  return { state, nonce: random(32), verifier: random(32), returnTo: { host: 'access.example.com', path } };
}

/** The Cookie header a browser sends to the callback after this Set-Cookie. */
const cookieOf = (setCookie: string) => setCookie.split(';')[0]!;

describe('the login transaction', () => {
  let t: TestRedis;
  let keys: SigningKeys;
  let deps: Parameters<typeof claimTransaction>[0];
  beforeEach(async () => {
    t = await testRedis();
    keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
    deps = { keys, issuer, cookies, clock: systemClock, redis: t.redis, redisKeys: t.keys };
  });
  afterEach(() => t.cleanup());

  it('when the callback names its state, then the transaction is claimed once, and a second claim is refused', async () => {
    const tx = transaction(random(32));
    const set = await transactionCookie(deps, tx);
    expect(set).toMatch(
      /^__Secure-jitgate_login_[\w-]{16}=[\w.-]+; HttpOnly; SameSite=Lax; Path=\/_jitgate\/oauth2\/callback; Max-Age=600; Secure$/,
    );
    const first = await claimTransaction(deps, tx.state, cookieOf(set));
    expect(first).toMatchObject({ ok: true, transaction: tx });
    expect(await claimTransaction(deps, tx.state, cookieOf(set))).toMatchObject({
      ok: false,
      reason: 'transaction_used',
    });
  });

  it('when the cookie under this state holds another transaction, an expired one or a session, then it is refused as invalid', async () => {
    const a = transaction(random(32));
    const b = transaction(Buffer.alloc(32, 9).toString('base64url'));
    const nameB = transactionCookieName(cookies, b.state);
    const valueA = cookieOf(await transactionCookie(deps, a)).split('=')[1];
    expect(await claimTransaction(deps, b.state, `${nameB}=${valueA}`)).toMatchObject({
      ok: false,
      reason: 'transaction_invalid',
    });
    const past = { now: () => Date.now() - 3_600_000 };
    const expired = cookieOf(await transactionCookie({ ...deps, clock: past }, b)).split('=')[1];
    expect(await claimTransaction(deps, b.state, `${nameB}=${expired}`)).toMatchObject({
      reason: 'transaction_invalid',
    });
    const now = Math.floor(Date.now() / 1000);
    const session = await sessionCookie(deps, {
      idp: 'https://slack.com',
      sub: 'U0ALICE',
      person: { kind: 'slack', user: 'U0ALICE' as SlackUserId, team: 'T0ACME' },
      sid: random(18),
      host: 'access.example.com',
      iat: now,
      exp: now + 600,
    });
    expect(
      await claimTransaction(deps, b.state, `${nameB}=${cookieOf(session).split('=')[1]}`),
    ).toMatchObject({
      reason: 'transaction_invalid',
    });
    expect(await claimTransaction(deps, undefined, `${nameB}=${valueA}`)).toMatchObject({
      reason: 'state_missing',
    });
    expect(await claimTransaction(deps, b.state, undefined)).toMatchObject({ reason: 'transaction_missing' });
  });

  it('when many tabs sign in at once, then each transaction cookie stays small (all ride on the callback request)', async () => {
    const set = await transactionCookie(deps, transaction(random(32)));
    expect(set.length).toBeLessThan(600);
    const long = transaction(random(32), `/app/d/x?${'q=1&'.repeat(500)}`);
    const longSet = await transactionCookie(deps, long);
    expect(longSet.length).toBeLessThan(1800);
    const claimed = await claimTransaction(deps, long.state, cookieOf(longSet));
    expect(claimed.ok && claimed.transaction.returnTo.path).toBe('/app/d/x');
  });

  it('when Redis cannot be reached, then claiming throws (the callback answers 503) rather than letting a replay through', async () => {
    const tx = transaction(random(32));
    const set = await transactionCookie(deps, tx);
    const gone = connectRedis(REDIS_URL);
    gone.disconnect();
    await expect(claimTransaction({ ...deps, redis: gone }, tx.state, cookieOf(set))).rejects.toThrow();
  });
});
