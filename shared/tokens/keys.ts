import { randomBytes, type webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import { z } from 'zod';
import { JitgateError } from '../errors.js';

export type SigningAlg = 'EdDSA' | 'ES256';

/** The loaded key set: the first key signs, every key verifies (by `kid`). */
export interface SigningKeys {
  signing: { key: webcrypto.CryptoKey; kid: string; alg: SigningAlg };
  /** The algorithms present in the set: verification accepts these and nothing else. */
  algorithms: SigningAlg[];
  /** Looks up a verification key by the token's `kid` (local only: header-supplied keys are never used). */
  verifyKey: JWTVerifyGetKey;
  /** The public keys, for `/_jitgate/jwks.json`: never a private part. */
  publicJwks(): { keys: JWK[] };
}

const HOW = 'generate one with: npm run keys -- generate';

const PrivateJwk = z
  .object({
    kty: z.enum(['OKP', 'EC'], {
      error: 'kty must be OKP (Ed25519) or EC (P-256); RSA and others are not accepted',
    }),
    crv: z.string(),
    x: z.string().min(1),
    y: z.string().optional(),
    d: z.string({ error: 'is a public key; a signing key needs its private part "d"' }).min(1),
    kid: z.string({ error: 'has no kid' }).min(1, 'has an empty kid'),
    alg: z.string().optional(),
    use: z.string().optional(),
  })
  .superRefine((k, ctx) => {
    const alg = k.kty === 'OKP' ? 'EdDSA' : 'ES256';
    if (k.kty === 'OKP' && k.crv !== 'Ed25519')
      ctx.addIssue({ code: 'custom', message: 'an OKP key must use crv Ed25519' });
    if (k.kty === 'EC' && k.crv !== 'P-256')
      ctx.addIssue({ code: 'custom', message: 'an EC key must use crv P-256' });
    if (k.kty === 'EC' && !k.y) ctx.addIssue({ code: 'custom', message: 'an EC key needs y' });
    if (k.alg !== undefined && k.alg !== alg && !(alg === 'EdDSA' && k.alg === 'Ed25519')) {
      ctx.addIssue({
        code: 'custom',
        message: `alg ${k.alg} does not match the key's curve (expected ${alg})`,
      });
    }
  });
const PrivateJwkSet = z.object({ keys: z.array(z.unknown()).min(1, 'the key set is empty') });

function invalid(problem: string): JitgateError {
  return new JitgateError('keys_invalid', `JITGATE_SIGNING_KEYS: ${problem}; ${HOW}`, {});
}

/**
 * Loads the private JWK Set from JSON or from a file path. Problems are reported without key material.
 *
 * @example const keys = await loadSigningKeys(config.JITGATE_SIGNING_KEYS);
 */
export async function loadSigningKeys(value: string): Promise<SigningKeys> {
  let text = value.trim();
  if (!text.startsWith('{')) {
    try {
      text = readFileSync(text, 'utf8');
    } catch {
      throw invalid(`is neither a JWK Set (JSON) nor a readable file (${value.slice(0, 80)})`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid('is not valid JSON');
  }
  const set = PrivateJwkSet.safeParse(json);
  if (!set.success) throw invalid(set.error.issues[0]?.message ?? 'is not a JWK Set ({"keys": [...]})');
  const parsed = set.data.keys.map((raw, i) => {
    const k = PrivateJwk.safeParse(raw);
    if (!k.success) throw invalid(`key ${i} ${k.error.issues[0]?.message ?? 'is invalid'}`);
    return k.data;
  });
  const kids = new Set<string>();
  for (const k of parsed) {
    if (kids.has(k.kid)) throw invalid(`kid "${k.kid}" appears twice`);
    kids.add(k.kid);
  }
  const publics: JWK[] = parsed.map((k) => {
    const alg: SigningAlg = k.kty === 'OKP' ? 'EdDSA' : 'ES256';
    return { kty: k.kty, crv: k.crv, x: k.x, ...(k.y ? { y: k.y } : {}), kid: k.kid, alg, use: 'sig' };
  });
  const first = parsed[0]!;
  const alg: SigningAlg = first.kty === 'OKP' ? 'EdDSA' : 'ES256';
  let key: webcrypto.CryptoKey;
  try {
    key = (await importJWK({ ...first, alg }, alg)) as webcrypto.CryptoKey;
  } catch {
    throw invalid(`key "${first.kid}" cannot be imported`);
  }
  const algorithms = [...new Set(publics.map((k) => k.alg as SigningAlg))];
  const verifyKey = createLocalJWKSet({ keys: publics });
  return {
    signing: { key, kid: first.kid, alg },
    algorithms,
    verifyKey,
    publicJwks: () => ({ keys: publics.map((k) => ({ ...k })) }),
  };
}

/** A new private JWK Set with one key and a fresh `kid` (for `npm run keys -- generate`, the demo and tests). */
export async function generateSigningKeySet(alg: SigningAlg = 'EdDSA'): Promise<{ keys: JWK[] }> {
  const { privateKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : 'ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = `${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  return { keys: [{ ...jwk, kid, alg, use: 'sig' }] };
}
