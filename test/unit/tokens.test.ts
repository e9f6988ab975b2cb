import { createHmac, generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../shared/clock.js';
import { isJitgateError } from '../../shared/errors.js';
import {
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

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    if (!isJitgateError(err)) throw err;
    return err.code === 'token_invalid' ? `token_invalid:${String(err.fields.reason)}` : err.code;
  }
}
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('access tokens', () => {
  let keys: SigningKeys;
  let ecKeys: SigningKeys;
  beforeAll(async () => {
    keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet('EdDSA')));
    ecKeys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet('ES256')));
  });
  const verifier = () => createAccessTokenVerifier({ keys, issuer: ISSUER, clock });

  it.each(['EdDSA', 'ES256'])(
    'when signed with %s, then it verifies and the claims come back',
    async (alg) => {
      const k = alg === 'EdDSA' ? keys : ecKeys;
      const token = await signAccessToken(k, claims(), clock);
      const c = await createAccessTokenVerifier({ keys: k, issuer: ISSUER, clock }).verify(token, 'grafana');
      expect(c).toMatchObject({ sub: 'U0ALICE', aud: 'grafana', gid: GID, role: 'viewer', iss: ISSUER });
      expect(c.exp).toBe(Math.floor((now + 60_000) / 1000));
    },
  );

  it('when the audience, issuer or time is wrong, then each is refused with its own reason', async () => {
    const v = verifier();
    expect(await refusal(v.verify(await signAccessToken(keys, claims(), clock), 'kibana'))).toBe(
      'token_invalid:audience',
    );
    expect(
      await refusal(v.verify(await signAccessToken(keys, claims({ issuer: 'https://evil' }), clock))),
    ).toBe('token_invalid:issuer');
    expect(
      await refusal(v.verify(await signAccessToken(keys, claims({ expiresAt: now - 30_000 }), clock))),
    ).toBe('token_expired');
    const future: Clock = { now: () => now + 600_000 };
    const early = await signAccessToken(keys, claims({ expiresAt: now + 900_000 }), future);
    expect(await refusal(v.verify(early))).toBe('token_invalid:not_yet_valid');
  });

  it("when a stranger's key signs, then it is refused under our kid and under an unknown one", async () => {
    const stranger = await generateKeyPair('Ed25519');
    for (const kid of [keys.signing.kid, 'someone-else']) {
      const token = await new SignJWT({ gid: GID, role: 'viewer', email: 'x' })
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'jitgate-access+jwt' })
        .setIssuer(ISSUER)
        .setSubject('U0ALICE')
        .setAudience('grafana')
        .setIssuedAt()
        .setNotBefore(Math.floor(now / 1000))
        .setExpirationTime(Math.floor(now / 1000) + 60)
        .sign(stranger.privateKey);
      const r = await refusal(verifier().verify(token));
      expect(r).toBe(kid === 'someone-else' ? 'token_invalid:unknown_kid' : 'token_invalid:signature');
    }
  });

  it('when the algorithm is none or HMAC keyed with our public key, then it is refused as algorithm', async () => {
    const payload = b64({
      iss: ISSUER,
      sub: 'U0ALICE',
      aud: 'grafana',
      gid: GID,
      role: 'viewer',
      email: '',
      iat: 1,
      nbf: 1,
      exp: 4e9,
    });
    for (const alg of ['none', 'NONE', 'nOnE']) {
      expect(await refusal(verifier().verify(`${b64({ alg, typ: 'jitgate-access+jwt' })}.${payload}.`))).toBe(
        'token_invalid:algorithm',
      );
    }
    const publicX = keys.publicJwks().keys[0]!.x!;
    for (const secret of [
      publicX,
      Buffer.from(publicX, 'base64url'),
      JSON.stringify(keys.publicJwks().keys[0]),
    ]) {
      const head = b64({ alg: 'HS256', kid: keys.signing.kid, typ: 'jitgate-access+jwt' });
      const sig = createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url');
      expect(await refusal(verifier().verify(`${head}.${payload}.${sig}`))).toBe('token_invalid:algorithm');
    }
  });

  it('when the header carries keys, key URLs or crit, then it is refused', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const jwk = await exportJWK(publicKey);
    for (const extra of [
      { jwk },
      { jku: 'https://evil/jwks' },
      { x5u: 'https://evil/cert' },
      { crit: ['exp'], exp: 1 },
    ]) {
      const token = await new SignJWT({ gid: GID, role: 'viewer', email: '' })
        .setProtectedHeader({
          alg: 'EdDSA',
          kid: keys.signing.kid,
          typ: 'jitgate-access+jwt',
          ...extra,
        } as never)
        .setIssuer(ISSUER)
        .setSubject('U0ALICE')
        .setAudience('grafana')
        .setIssuedAt(Math.floor(now / 1000))
        .setNotBefore(Math.floor(now / 1000))
        .setExpirationTime(Math.floor(now / 1000) + 60)
        .sign(keys.signing.key)
        .catch(() => `${b64({ alg: 'EdDSA', kid: keys.signing.kid, ...extra })}.${b64({})}.x`);
      expect(await refusal(verifier().verify(token))).toBe('token_invalid:header');
    }
  });

  it('when the token is malformed, truncated, extended or oversized, then it is refused', async () => {
    const good = await signAccessToken(keys, claims(), clock);
    expect(await refusal(verifier().verify('not-a-token'))).toBe('token_invalid:malformed');
    expect(await refusal(verifier().verify(good.slice(0, -10)))).toBe('token_invalid:signature');
    expect(await refusal(verifier().verify(`${good}.extra`))).toBe('token_invalid:malformed');
    expect(await refusal(verifier().verify(`${good}${'A'.repeat(9000)}`))).toBe('token_invalid:too_large');
    expect(await refusal(verifier().verify(''))).toBe('token_invalid:malformed');
  });

  it('when an assertion is presented as an access token, then it is refused by type, and the other way round', async () => {
    const assertion = await createAssertionSigner({ keys, issuer: ISSUER, clock }).get({
      grantId: GID,
      user: 'U0ALICE',
      email: 'alice@example.com',
      resource: 'grafana',
      role: 'viewer',
    });
    expect(await refusal(verifier().verify(assertion))).toBe('token_invalid:type');
    const access = await signAccessToken(keys, claims(), clock);
    await expect(
      verifyAssertion(keys.publicJwks(), access, { issuer: ISSUER, resource: 'grafana' }),
    ).rejects.toThrow();
  });

  it('when keys rotate, then tokens of the old key still verify and new ones carry the new kid', async () => {
    const oldSet = await generateSigningKeySet();
    const newSet = await generateSigningKeySet();
    const oldKeys = await loadSigningKeys(JSON.stringify(oldSet));
    const rotated = await loadSigningKeys(JSON.stringify({ keys: [...newSet.keys, ...oldSet.keys] }));
    const oldToken = await signAccessToken(oldKeys, claims(), clock);
    const v = createAccessTokenVerifier({ keys: rotated, issuer: ISSUER, clock });
    expect((await v.verify(oldToken)).sub).toBe('U0ALICE');
    const newToken = await signAccessToken(rotated, claims(), clock);
    expect(JSON.parse(Buffer.from(newToken.split('.')[0]!, 'base64url').toString()).kid).toBe(
      newSet.keys[0]!.kid,
    );
  });

  it('when the same token is verified twice, then the second is a cache hit that still checks audience and expiry', async () => {
    const v = createAccessTokenVerifier({ keys, issuer: ISSUER, clock, cacheSize: 2 });
    const token = await signAccessToken(keys, claims({ expiresAt: now + 10_000 }), clock);
    await v.verify(token, 'grafana');
    await v.verify(token, 'grafana');
    expect(v.stats()).toMatchObject({ hits: 1, misses: 1, size: 1 });
    expect(await refusal(v.verify(token, 'kibana'))).toBe('token_invalid:audience');
    for (let i = 0; i < 3; i++) await v.verify(await signAccessToken(keys, claims({ role: `r${i}` }), clock));
    expect(v.stats().size).toBe(2);
    const saved = now;
    now += 20_000;
    try {
      const t2 = createAccessTokenVerifier({ keys, issuer: ISSUER, clock });
      expect(await refusal(t2.verify(token))).toBe('token_expired');
      expect(await refusal(v.verify(token))).toBe('token_expired');
    } finally {
      now = saved;
    }
  });

  it('when the upstream assertion is asked for, then it lives at most 60 s and is reused until its renew window', async () => {
    const signer = createAssertionSigner({ keys, issuer: ISSUER, clock, renewBeforeSec: 15 });
    const input = {
      grantId: GID,
      user: 'U0ALICE',
      email: 'a@example.com',
      resource: 'grafana',
      role: 'viewer',
    };
    const a = await signer.get(input);
    expect(await signer.get(input)).toBe(a);
    const saved = now;
    now += 50_000;
    const b = await signer.get(input);
    now = saved;
    expect(b).not.toBe(a);
    const payload = JSON.parse(Buffer.from(a.split('.')[1]!, 'base64url').toString());
    expect(payload.exp - payload.iat).toBeLessThanOrEqual(60);
    expect(payload.aud).toBe('grafana');
  });
});
