import { beforeAll, describe, expect, it } from 'vitest';
import type { AccessContext } from '../../authorizer/checks/context.js';
import { tokenCheck } from '../../authorizer/checks/token.js';
import { statusFor } from '../../authorizer/refusals.js';
import type { Clock } from '../../shared/clock.js';
import {
  type AccessTokenInput,
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  generateSigningKeySet,
  loadSigningKeys,
  type SigningKeys,
  signAccessToken,
} from '../../shared/tokens/index.js';
import { attempt, clientAt, grafana, ISSUER, NOTHING_LEARNED, routed } from './authorizer-checks-fixtures.js';

const GID = `g_${'b'.repeat(26)}`;
const now = Date.parse('2030-01-15T12:00:00Z');
const clock: Clock = { now: () => now };
let keys: SigningKeys;
let strangerKeys: SigningKeys;
let verifier: AccessTokenVerifier;

const input = (over: Partial<AccessTokenInput> = {}): AccessTokenInput => ({
  issuer: ISSUER,
  grantId: GID,
  user: 'U0ALICE',
  email: 'alice@example.com',
  resource: 'grafana',
  role: 'editor',
  expiresAt: now + 60_000,
  ...over,
});

beforeAll(async () => {
  keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
  strangerKeys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
  verifier = createAccessTokenVerifier({ keys, issuer: ISSUER, clock });
});

describe('the token check', () => {
  it("when the token was minted for a browser's cookie, then the check notes it from the claims it verified (no second verify to tell)", async () => {
    const cookieToken = routed({ token: await signAccessToken(keys, input({ forCookie: true }), clock) });
    expect(await tokenCheck(verifier)(cookieToken)).toBeUndefined();
    expect(cookieToken.tokenUse).toBe('cookie');
    const bearerToken = routed({ token: await signAccessToken(keys, input(), clock) });
    expect(await tokenCheck(verifier)(bearerToken)).toBeUndefined();
    expect(bearerToken.tokenUse).toBeUndefined();
  });

  it("when the token is jitgate's and for this resource, then its claims become the attempt's identity", async () => {
    const ctx = routed({ token: await signAccessToken(keys, input(), clock) });
    expect(await tokenCheck(verifier)(ctx)).toBeUndefined();
    expect(ctx).toMatchObject({
      user: 'U0ALICE',
      email: 'alice@example.com',
      grantId: GID,
      roleName: 'editor',
    });
  });

  it('when no credential was presented, then token_missing (401) with the exact /access command as hint', async () => {
    const refused = await tokenCheck(verifier)(routed());
    expect(refused?.code).toBe('token_missing');
    expect(statusFor(refused!.code)).toBe(401);
    expect(refused?.hint).toBe('/access grafana/viewer 2h <reason>');
  });

  it('when the token is for another resource, then wrong_resource (403) names this one, and no identity is kept', async () => {
    const ctx = routed({ token: await signAccessToken(keys, input({ resource: 'wiki' }), clock) });
    const refused = await tokenCheck(verifier)(ctx);
    expect(refused).toMatchObject({
      code: 'wrong_resource',
      message: 'This access token is not for grafana.',
    });
    expect(statusFor(refused!.code)).toBe(403);
    expect(ctx.user).toBeUndefined();
  });

  it('when the token has expired, then token_expired', async () => {
    const signed = await signAccessToken(keys, input({ expiresAt: now - 60_000 }), {
      now: () => now - 120_000,
    });
    expect((await tokenCheck(verifier)(routed({ token: signed })))?.code).toBe('token_expired');
  });

  it('when the token is signed by a key jitgate does not hold, then token_invalid with the reason, and no identity', async () => {
    const ctx = routed({ token: await signAccessToken(strangerKeys, input(), clock) });
    const refused = await tokenCheck(verifier)(ctx);
    expect(refused).toMatchObject({
      code: 'token_invalid',
      message: 'The access token was signed with a key jitgate does not know (it may have been retired).',
    });
    expect(ctx.grantId).toBeUndefined();
  });

  it('when the credential is not a JWT at all, then token_invalid', async () => {
    const refused = await tokenCheck(verifier)(routed({ token: 'hunter2' }));
    expect(refused).toMatchObject({
      code: 'token_invalid',
      message: 'The access token is not a well-formed JWT.',
    });
  });

  it('when the attempt came without any HTTP (a database password), then the same token passes the same way', async () => {
    const ctx: AccessContext = {
      client: clientAt('10.1.2.3'),
      method: 'CONNECT',
      target: '/',
      websocket: false,
      token: await signAccessToken(keys, input(), clock),
      ...NOTHING_LEARNED,
      resource: grafana,
      upstreamPath: '/',
    };
    expect(await tokenCheck(verifier)(ctx)).toBeUndefined();
    expect(ctx.grantId).toBe(GID);
  });

  it('when it runs before any route check, then it refuses (internal_error): the audience would be unknown', async () => {
    const ctx = attempt({ token: await signAccessToken(keys, input(), clock) });
    expect((await tokenCheck(verifier)(ctx))?.code).toBe('internal_error');
    expect(ctx.user).toBeUndefined();
  });
});
