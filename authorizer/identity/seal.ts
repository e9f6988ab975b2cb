import {
  CompactEncrypt,
  compactDecrypt,
  EncryptJWT,
  errors,
  type JWTPayload,
  jwtDecrypt,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { Clock } from '../../shared/clock.js';
import type { SigningKeys } from '../../shared/tokens/index.js';

/**
 * Sealed cookies: a JWT signed with the first signing key (`kid` set), then encrypted (JWE, `dir` +
 * A256GCM) with a key derived from that same signing key for one purpose. Nobody without the key
 * set can read or forge one, every authorizer can open one, and after a rotation an old cookie
 * stays readable while its key is in the set. The purpose is both the `typ` and the HKDF info, so a
 * cookie sealed for one purpose never opens as another.
 */
export type SealFailure = 'malformed' | 'expired' | 'invalid';

export type Unsealed = { ok: true; claims: JWTPayload } | { ok: false; reason: SealFailure };

/** Longer than anything jitgate seals; refused before any parsing. */
const MAX_SEALED_LENGTH = 4 * 1024;

function secretFor(keys: SigningKeys, kid: string, purpose: string): Uint8Array | undefined {
  return keys.deriveSecret(kid, `jitgate sealed ${purpose} v1`);
}

/** The decryption key a sealed value's header names: only a key of the set, for this purpose. */
const keyFor =
  (keys: SigningKeys, purpose: string) =>
  (header: { kid?: string | undefined }): Uint8Array => {
    const secret = typeof header.kid === 'string' ? secretFor(keys, header.kid, purpose) : undefined;
    if (!secret) throw new Error('unknown kid');
    return secret;
  };

/** Too long or not a compact JWE (five parts): refused before any parsing. */
const malformed = (token: string): boolean =>
  token.length > MAX_SEALED_LENGTH || token.split('.').length !== 5;

const failureOf = (err: unknown): Unsealed => ({
  ok: false,
  reason: err instanceof errors.JWTExpired ? 'expired' : 'invalid',
});

/**
 * Seals `claims` for `purpose`, valid until `expiresAtSec`.
 *
 * @example const cookie = await seal(keys, 'session', { sid }, { issuer, expiresAtSec }, clock);
 */
export async function seal(
  keys: SigningKeys,
  purpose: string,
  claims: JWTPayload,
  opts: { issuer: string; expiresAtSec: number; issuedAtSec?: number },
  clock: Clock,
): Promise<string> {
  const { kid, alg, key } = keys.signing;
  const jws = await new SignJWT(claims)
    .setProtectedHeader({ alg, kid, typ: `jitgate-${purpose}+jwt` })
    .setIssuer(opts.issuer)
    .setIssuedAt(opts.issuedAtSec ?? Math.floor(clock.now() / 1000))
    .setExpirationTime(opts.expiresAtSec)
    .sign(key);
  const secret = secretFor(keys, kid, purpose)!;
  return new CompactEncrypt(new TextEncoder().encode(jws))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid, cty: 'JWT' })
    .encrypt(secret);
}

/**
 * Opens a sealed value: decrypts with the key its `kid` names (only keys of the set), verifies the
 * inner signature (the set's algorithms only), type, issuer and expiry against the injected clock.
 */
export async function unseal(
  keys: SigningKeys,
  purpose: string,
  token: string,
  opts: { issuer: string },
  clock: Clock,
): Promise<Unsealed> {
  if (malformed(token)) return { ok: false, reason: 'malformed' };
  let jws: string;
  try {
    const { plaintext } = await compactDecrypt(token, keyFor(keys, purpose), {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    jws = new TextDecoder().decode(plaintext);
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  try {
    const { payload } = await jwtVerify(jws, keys.verifyKey, {
      algorithms: keys.algorithms,
      typ: `jitgate-${purpose}+jwt`,
      issuer: opts.issuer,
      currentDate: new Date(clock.now()),
      requiredClaims: ['exp', 'iat'],
    });
    return { ok: true, claims: payload };
  } catch (err) {
    return failureOf(err);
  }
}

/**
 * Encrypted only (no signature inside: A256GCM already authenticates what only the key set's holders
 * can make), for short-lived values sent often, where size matters: the login transaction.
 */
export async function encryptOnly(
  keys: SigningKeys,
  purpose: string,
  claims: JWTPayload,
  opts: { issuer: string; expiresAtSec: number },
): Promise<string> {
  const { kid } = keys.signing;
  return new EncryptJWT(claims)
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid })
    .setIssuer(opts.issuer)
    .setExpirationTime(opts.expiresAtSec)
    .encrypt(secretFor(keys, kid, purpose)!);
}

/** Opens what encryptOnly made for `purpose`: key by `kid`, issuer and expiry checked. */
export async function decryptOnly(
  keys: SigningKeys,
  purpose: string,
  token: string,
  opts: { issuer: string },
  clock: Clock,
): Promise<Unsealed> {
  if (malformed(token)) return { ok: false, reason: 'malformed' };
  try {
    const { payload } = await jwtDecrypt(token, keyFor(keys, purpose), {
      issuer: opts.issuer,
      currentDate: new Date(clock.now()),
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
      requiredClaims: ['exp'],
    });
    return { ok: true, claims: payload };
  } catch (err) {
    return failureOf(err);
  }
}
