import { createHmac, generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../shared/clock.js';
import { isJitgateError } from '../../shared/errors.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import {
  type AccessClaims,
  createAccessTokenVerifier,
  createAssertionSigner,
  generateSigningKeySet,
  loadSigningKeys,
  type SigningKeys,
  signAccessToken,
  verifyAssertion,
} from '../../shared/tokens/index.js';

const ISSUER = 'https://access.example.com';
const GID = `g_${'a'.repeat(26)}`;
let now = Date.parse('2026-11-28T12:00:00Z');
const clock: Clock = { now: () => now };
const sec = () => Math.floor(now / 1000);
const claims = (over: Partial<Parameters<typeof signAccessToken>[1]> = {}) => ({
  issuer: ISSUER,
  grantId: GID,
  user: 'U0ALICE',
  email: 'alice@example.com',
  resource: 'grafana',
  role: 'viewer',
  expiresAt: now + 60_000,
  ...over,
});
const grant = {
  grantId: GID,
  user: 'U0ALICE',
  email: 'alice@example.com',
  resource: 'grafana',
  role: 'viewer',
};

/** The refusal as `code:reason` (or 'accepted'), so that each case asserts its exact reason. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    if (!isJitgateError(err)) throw err;
    return `${err.code}:${String(err.fields.reason)}`;
  }
}
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const headerOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
const payloadOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());

let keys: SigningKeys;
let ecKeys: SigningKeys;
beforeAll(async () => {
  keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet('EdDSA')));
  ecKeys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet('ES256')));
});
const verifier = (k = keys) => createAccessTokenVerifier({ keys: k, issuer: ISSUER, clock });

/** A token signed with any key and header, with valid access claims unless overridden. */
function forged(key: Parameters<SignJWT['sign']>[0], header: Record<string, unknown>, payload = {}) {
  return new SignJWT({ gid: GID, role: 'viewer', email: 'x@example.com', ...payload })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'jitgate-access+jwt', ...header } as never)
    .setIssuer(ISSUER)
    .setSubject('U0ALICE')
    .setAudience('grafana')
    .setIssuedAt(sec())
    .setNotBefore(sec())
    .setExpirationTime(sec() + 60)
    .sign(key);
}

describe('access tokens', () => {
  it.each(['EdDSA', 'ES256'] as const)(
    'when signed with %s, then it verifies and the claims come back typed',
    async (alg) => {
      const k = alg === 'EdDSA' ? keys : ecKeys;
      const token = await signAccessToken(k, claims(), clock);
      const c: AccessClaims = await verifier(k).verify(token, 'grafana');
      const user: SlackUserId = c.sub;
      const gid: GrantId = c.gid;
      expect({ user, gid }).toEqual({ user: 'U0ALICE', gid: GID });
      expect(c).toMatchObject({ aud: 'grafana', role: 'viewer', iss: ISSUER, email: 'alice@example.com' });
      expect(c).toMatchObject({ iat: sec(), nbf: sec(), exp: Math.floor((now + 60_000) / 1000) });
      expect(headerOf(token)).toEqual({ alg, kid: k.signing.kid, typ: 'jitgate-access+jwt' });
      expect(c.jti).toMatch(/^[\w-]{16,}$/);
    },
  );

  it('when the audience, issuer or time is wrong, then each is refused with its own reason', async () => {
    const v = verifier();
    const good = await signAccessToken(keys, claims(), clock);
    expect(await refusal(v.verify(good, 'kibana'))).toBe('token_invalid:audience');
    const foreign = await signAccessToken(keys, claims({ issuer: 'https://evil' }), clock);
    expect(await refusal(v.verify(foreign))).toBe('token_invalid:issuer');
    const old = await signAccessToken(keys, claims({ expiresAt: now - 30_000 }), clock);
    expect(await refusal(v.verify(old))).toBe('token_expired:expired');
    const early = await signAccessToken(keys, claims({ expiresAt: now + 900_000 }), {
      now: () => now + 600_000,
    });
    expect(await refusal(v.verify(early))).toBe('token_invalid:not_yet_valid');
  });

  it('when expiry is within the clock tolerance, then it is still accepted; beyond it, refused', async () => {
    const token = await signAccessToken(keys, claims({ expiresAt: now + 1_000 }), clock);
    const at = (ms: number) => createAccessTokenVerifier({ keys, issuer: ISSUER, clock: { now: () => ms } });
    expect(await refusal(at(now + 5_000).verify(token))).toBe('accepted');
    expect(await refusal(at(now + 7_000).verify(token))).toBe('token_expired:expired');
  });

  it("when a stranger's key signs, then it is refused under our kid and under an unknown one", async () => {
    const stranger = await generateKeyPair('Ed25519');
    const ours = await forged(stranger.privateKey, { kid: keys.signing.kid });
    expect(await refusal(verifier().verify(ours))).toBe('token_invalid:signature');
    const theirs = await forged(stranger.privateKey, { kid: 'someone-else' });
    expect(await refusal(verifier().verify(theirs))).toBe('token_invalid:unknown_kid');
    const none = await forged(keys.signing.key, {});
    expect(await refusal(verifier().verify(none))).toBe('token_invalid:unknown_kid');
  });

  it('when the algorithm is none, HMAC keyed with our public key, or not one of ours, then it is refused as algorithm', async () => {
    const payload = b64({ iss: ISSUER, sub: 'U0ALICE', aud: 'grafana', gid: GID, role: 'viewer', email: '' });
    for (const alg of ['none', 'NONE', 'nOnE']) {
      const token = `${b64({ alg, kid: keys.signing.kid, typ: 'jitgate-access+jwt' })}.${payload}.`;
      expect(await refusal(verifier().verify(token))).toBe('token_invalid:algorithm');
    }
    const jwk = keys.publicJwks().keys[0]!;
    for (const secret of [jwk.x!, Buffer.from(jwk.x!, 'base64url'), JSON.stringify(jwk)]) {
      const head = b64({ alg: 'HS256', kid: keys.signing.kid, typ: 'jitgate-access+jwt' });
      const sig = createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url');
      expect(await refusal(verifier().verify(`${head}.${payload}.${sig}`))).toBe('token_invalid:algorithm');
    }
    // An ES256 token against an EdDSA-only set: a real signature, but not an algorithm we use.
    const es = await signAccessToken(ecKeys, claims(), clock);
    expect(await refusal(verifier().verify(es))).toBe('token_invalid:algorithm');
  });

  it('when the header carries a key, a key URL, a certificate or crit, then it is refused as header', async () => {
    const jwk = await exportJWK(generateKeyPairSync('ed25519').publicKey);
    const extras = [{ jwk }, { jku: 'https://evil/jwks' }, { x5u: 'https://evil/cert' }, { x5c: ['MIIB'] }];
    for (const extra of extras) {
      const token = await forged(keys.signing.key, { kid: keys.signing.kid, ...extra });
      expect(await refusal(verifier().verify(token))).toBe('token_invalid:header');
    }
    // jose will not sign an unknown crit, so build the header by hand (the signature is never reached).
    const crit = `${b64({ alg: 'EdDSA', kid: keys.signing.kid, crit: ['exp'], exp: 1 })}.${b64({})}.AAAA`;
    expect(await refusal(verifier().verify(crit))).toBe('token_invalid:header');
  });

  it('when the token is malformed, truncated, extended or oversized, then it is refused', async () => {
    const good = await signAccessToken(keys, claims(), clock);
    const [head, body] = good.split('.');
    const cases: [string, string][] = [
      ['', 'malformed'],
      ['not-a-token', 'malformed'],
      [`${good}.extra`, 'malformed'],
      [`${head}.${body}`, 'malformed'],
      [`${head}!.${body}.sig`, 'malformed'],
      [`${b64('just a string')}.${body}.sig`, 'malformed'],
      [good.slice(0, -10), 'signature'],
      [`${head}.${b64({ ...payloadOf(good), role: 'admin' })}.${good.split('.')[2]}`, 'signature'],
      [`${good}${'A'.repeat(9000)}`, 'too_large'],
    ];
    for (const [token, reason] of cases) {
      expect(await refusal(verifier().verify(token))).toBe(`token_invalid:${reason}`);
    }
  });

  it('when a signed token lacks a claim or has a bad grant id, then it is refused as claims', async () => {
    const noRole = await forged(keys.signing.key, { kid: keys.signing.kid }, { role: undefined });
    expect(await refusal(verifier().verify(noRole))).toBe('token_invalid:claims');
    const badGid = await forged(keys.signing.key, { kid: keys.signing.kid }, { gid: 'g_../../x' });
    expect(await refusal(verifier().verify(badGid))).toBe('token_invalid:claims');
  });

  it('when the grant has no e-mail, then its assertion carries no email claim (never an empty one) and verifies', async () => {
    const token = await createAssertionSigner({ keys, issuer: ISSUER, clock }).get({ ...grant, email: '' });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as object;
    expect(payload).not.toHaveProperty('email');
    const verified = await verifyAssertion(keys.publicJwks(), token, {
      issuer: ISSUER,
      resource: 'grafana',
      clock,
    });
    expect(verified.email).toBeUndefined();
    expect(verified.sub).toBe(grant.user);
  });

  it('when an assertion is presented as an access token, then it is refused by type, and the other way round', async () => {
    const assertion = await createAssertionSigner({ keys, issuer: ISSUER, clock }).get(grant);
    expect(await refusal(verifier().verify(assertion, 'grafana'))).toBe('token_invalid:type');
    const access = await signAccessToken(keys, claims(), clock);
    const expected = { issuer: ISSUER, resource: 'grafana', clock };
    expect(await refusal(verifyAssertion(keys.publicJwks(), access, expected))).toBe('token_invalid:type');
  });

  it('when keys rotate, then tokens of the old key still verify and new ones carry the new kid', async () => {
    const oldSet = await generateSigningKeySet();
    const newSet = await generateSigningKeySet('ES256');
    const oldKeys = await loadSigningKeys(JSON.stringify(oldSet));
    const rotated = await loadSigningKeys(JSON.stringify({ keys: [...newSet.keys, ...oldSet.keys] }));
    const oldToken = await signAccessToken(oldKeys, claims(), clock);
    expect((await verifier(rotated).verify(oldToken, 'grafana')).sub).toBe('U0ALICE');
    const newToken = await signAccessToken(rotated, claims(), clock);
    expect(headerOf(newToken)).toMatchObject({ kid: newSet.keys[0]!.kid, alg: 'ES256' });
    expect((await verifier(rotated).verify(newToken, 'grafana')).sub).toBe('U0ALICE');
    // Once the old key is dropped, its tokens name a kid the set does not hold.
    expect(await refusal(verifier(keys).verify(oldToken))).toBe('token_invalid:unknown_kid');
  });
});

describe('the verification cache', () => {
  it('when the same token is verified twice, then the second is a hit that still checks the audience', async () => {
    const v = verifier();
    const token = await signAccessToken(keys, claims(), clock);
    await v.verify(token, 'grafana');
    expect((await v.verify(token, 'grafana')).gid).toBe(GID);
    expect(v.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
    expect(await refusal(v.verify(token, 'kibana'))).toBe('token_invalid:audience');
    expect(v.stats().hits).toBe(2);
  });

  it('when a cached token passes its expiry, then a hit refuses it as expired and forgets it', async () => {
    const v = verifier();
    const token = await signAccessToken(keys, claims({ expiresAt: now + 10_000 }), clock);
    await v.verify(token);
    const saved = now;
    now += 16_000; // past exp + the 5 s tolerance
    try {
      expect(await refusal(v.verify(token))).toBe('token_expired:expired');
      expect(v.stats()).toMatchObject({ hits: 1, size: 0 });
      expect(await refusal(v.verify(token))).toBe('token_expired:expired');
    } finally {
      now = saved;
    }
  });

  it('when tokens are refused, then nothing is cached', async () => {
    const v = verifier();
    await refusal(v.verify(await signAccessToken(keys, claims({ issuer: 'https://evil' }), clock)));
    await refusal(v.verify('not-a-token'));
    expect(v.stats()).toEqual({ hits: 0, misses: 2, size: 0 });
  });

  it('when more tokens than its size are verified, then it stays bounded and keeps the recently used', async () => {
    const v = createAccessTokenVerifier({ keys, issuer: ISSUER, clock, cacheSize: 2 });
    const [a, b, c] = await Promise.all(
      ['r1', 'r2', 'r3'].map((role) => signAccessToken(keys, claims({ role }), clock)),
    );
    await v.verify(a!);
    await v.verify(b!);
    await v.verify(a!); // a is now the most recently used
    await v.verify(c!); // evicts b
    expect(v.stats()).toEqual({ hits: 1, misses: 3, size: 2 });
    await v.verify(a!);
    await v.verify(b!);
    expect(v.stats()).toEqual({ hits: 2, misses: 4, size: 2 });
  });
});

describe('upstream assertions', () => {
  it('when asked for, then it is signed for the resource, lives at most 60 s and verifies with the public JWKS', async () => {
    const signer = createAssertionSigner({ keys, issuer: ISSUER, clock, lifetimeSec: 3600 });
    const token = await signer.get(grant);
    expect(headerOf(token)).toEqual({ alg: 'EdDSA', kid: keys.signing.kid, typ: 'jitgate-assertion+jwt' });
    const c = await verifyAssertion(keys.publicJwks(), token, { issuer: ISSUER, resource: 'grafana', clock });
    expect(c).toMatchObject({
      sub: 'U0ALICE',
      aud: 'grafana',
      gid: GID,
      role: 'viewer',
      email: 'alice@example.com',
    });
    expect(c.exp - c.iat).toBeLessThanOrEqual(60);
    const wrong = { issuer: ISSUER, resource: 'kibana', clock };
    expect(await refusal(verifyAssertion(keys.publicJwks(), token, wrong))).toBe('token_invalid:audience');
    const later = { issuer: ISSUER, resource: 'grafana', clock: { now: () => now + 70_000 } };
    expect(await refusal(verifyAssertion(keys.publicJwks(), token, later))).toBe('token_expired:expired');
  });

  it('when asked again, then it is reused until its renew window, then re-signed', async () => {
    const signer = createAssertionSigner({ keys, issuer: ISSUER, clock, renewBeforeSec: 15 });
    const saved = now;
    try {
      const a = await signer.get(grant);
      now += 44_000; // 16 s left
      expect(await signer.get(grant)).toBe(a);
      now += 2_000; // 14 s left
      const b = await signer.get(grant);
      expect(b).not.toBe(a);
      expect(payloadOf(b).iat).toBe(sec());
      expect(await signer.get(grant)).toBe(b);
      expect(await signer.get({ ...grant, role: 'editor' })).not.toBe(b);
    } finally {
      now = saved;
    }
  });
});
