import { hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  CompactSign,
  type CryptoKey,
  compactVerify,
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

/** The loaded key set: the first key signs, every key verifies (looked up by `kid`). */
export interface SigningKeys {
  signing: { key: CryptoKey; kid: string; alg: SigningAlg };
  /** The algorithms present in the set: verification accepts these and nothing else. */
  algorithms: SigningAlg[];
  /** Every key's public part, as a JWK Set (what `createLocalJWKSet` takes). */
  verificationJwks: { keys: JWK[] };
  /** `createLocalJWKSet(verificationJwks)`: keys named in a token's header are never used. */
  verifyKey: JWTVerifyGetKey;
  /** The public keys for `/_jitgate/jwks.json`, a fresh copy each call: never a private part. */
  publicJwks(): { keys: JWK[] };
  /**
   * A 256-bit secret for one purpose (`info`), derived with HKDF-SHA256 from the private part of key
   * `kid`; undefined for a kid not in the set. Every process with the set derives the same secret,
   * so sealed cookies need no secret of their own, and a rotation keeps them readable while their
   * key stays in the set.
   */
  deriveSecret(kid: string, info: string): Uint8Array | undefined;
}

/** The advice of every key problem: commands that work as written (see the README, step 3). */
export const KEYS_HOW =
  'make a set with `npm run keys -- generate --out keys.json` and set JITGATE_SIGNING_KEYS=./keys.json ' +
  '(to rotate: `npm run keys -- generate --add keys.json --out keys.json`)';

const CURVES = { OKP: { crv: 'Ed25519', alg: 'EdDSA' }, EC: { crv: 'P-256', alg: 'ES256' } } as const;

const PrivateJwk = z
  .object({
    kty: z.enum(['OKP', 'EC'], {
      error: 'has a kty that is not OKP (Ed25519) or EC (P-256); RSA and other key types are not accepted',
    }),
    crv: z.string({ error: 'has no crv' }),
    x: z.string({ error: 'has no x' }).min(1, 'has an empty x'),
    y: z.string().min(1).optional(),
    d: z.string({ error: 'is a public key; a signing key needs its private part "d"' }).min(1),
    kid: z.string({ error: 'has no kid' }).min(1, 'has an empty kid'),
    alg: z.string().optional(),
    use: z.literal('sig', { error: 'has a use other than "sig"' }).optional(),
  })
  .superRefine((k, ctx) => {
    const expected = CURVES[k.kty];
    if (k.crv !== expected.crv) {
      ctx.addIssue({ code: 'custom', message: `is ${k.kty} but not on curve ${expected.crv}` });
    } else if (k.kty === 'EC' && k.y === undefined) {
      ctx.addIssue({ code: 'custom', message: 'is an EC key without y' });
    } else if (k.alg !== undefined && k.alg !== expected.alg && !(k.kty === 'OKP' && k.alg === 'Ed25519')) {
      ctx.addIssue({
        code: 'custom',
        message: `has alg ${k.alg}, which does not match ${k.crv} (${expected.alg})`,
      });
    }
  });
type PrivateJwk = z.infer<typeof PrivateJwk>;

const PrivateJwkSet = z.object(
  { keys: z.array(z.unknown(), { error: 'has no "keys" array' }).min(1, 'is an empty key set') },
  { error: 'is not a JWK Set ({"keys": [...]})' },
);

// Messages name the key by position and kid only: never a value that could be key material.
function invalid(problem: string, fields: Record<string, unknown> = {}): JitgateError {
  return new JitgateError('keys_invalid', `JITGATE_SIGNING_KEYS ${problem}; ${KEYS_HOW}.`, fields);
}

function readKeySetText(value: string): string {
  const text = value.trim();
  if (text.startsWith('{')) return text;
  // Only echo what looks like a path: a value that is neither may be a mangled key set.
  const shown = /^[\w./\\:~ -]{1,200}$/.test(text) ? ` (${text})` : '';
  try {
    return readFileSync(text, 'utf8');
  } catch {
    throw invalid(`is neither a JWK Set (JSON starting with {) nor a readable file${shown}`);
  }
}

/**
 * Loads the private JWK Set from its JSON or from a file path. Every key is checked (type, curve,
 * `alg`, unique `kid`, and that its private part matches its public part); a problem is reported
 * as `keys_invalid` without any key material.
 *
 * @example
 *   const keys = await loadSigningKeys(config.JITGATE_SIGNING_KEYS);
 *   app.get('/_jitgate/jwks.json', (_req, res) => res.json(keys.publicJwks()));
 */
export async function loadSigningKeys(value: string): Promise<SigningKeys> {
  let json: unknown;
  const text = readKeySetText(value);
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the text, which would be key material.
    if (/^\s*> \S+@\S+ /.test(text))
      throw invalid(
        "is not valid JSON: it begins with npm's banner (`> jitgate@… keys`), written by " +
          '`npm run keys -- generate > file` without -s',
      );
    throw invalid('is not valid JSON');
  }
  const set = PrivateJwkSet.safeParse(json);
  if (!set.success) throw invalid(set.error.issues[0]?.message ?? 'is not a JWK Set');

  const parsed = set.data.keys.map((raw, i) => {
    const key = PrivateJwk.safeParse(raw);
    if (key.success) return key.data;
    const kid =
      typeof (raw as { kid?: unknown })?.kid === 'string' ? ` "${(raw as { kid: string }).kid}"` : '';
    throw invalid(`key ${i}${kid} ${key.error.issues[0]?.message ?? 'is not valid'}`, { key: i });
  });
  const seen = new Set<string>();
  for (const k of parsed) {
    if (seen.has(k.kid)) throw invalid(`has kid "${k.kid}" twice; each key needs its own`, { kid: k.kid });
    seen.add(k.kid);
  }

  const publics = parsed.map(publicPart);
  const privates = await Promise.all(parsed.map((k, i) => checkPair(k, publics[i]!, i)));
  const first = publics[0]!;
  const verificationJwks = { keys: publics };
  return {
    signing: { key: privates[0]!, kid: first.kid!, alg: first.alg as SigningAlg },
    algorithms: [...new Set(publics.map((k) => k.alg as SigningAlg))],
    verificationJwks,
    verifyKey: createLocalJWKSet(verificationJwks),
    publicJwks: () => ({ keys: publics.map((k) => ({ ...k })) }),
    deriveSecret: secretDeriver(parsed),
  };
}

function secretDeriver(keys: PrivateJwk[]): SigningKeys['deriveSecret'] {
  const material = new Map(keys.map((k) => [k.kid, Buffer.from(k.d, 'base64url')]));
  return (kid, info) => {
    const ikm = material.get(kid);
    if (!ikm) return undefined;
    return new Uint8Array(hkdfSync('sha256', ikm, 'jitgate derived secret', info, 32));
  };
}

function publicPart(k: PrivateJwk): JWK {
  const { alg } = CURVES[k.kty];
  return {
    kty: k.kty,
    crv: k.crv,
    x: k.x,
    ...(k.y === undefined ? {} : { y: k.y }),
    kid: k.kid,
    alg,
    use: 'sig',
  };
}

/** Imports a key and proves its private part signs what its public part verifies. */
async function checkPair(k: PrivateJwk, pub: JWK, i: number): Promise<CryptoKey> {
  const alg = pub.alg as SigningAlg;
  try {
    const privateKey = (await importJWK({ ...k, alg }, alg)) as CryptoKey;
    const publicKey = await importJWK(pub, alg);
    const probe = await new CompactSign(new TextEncoder().encode('jitgate key check'))
      .setProtectedHeader({ alg })
      .sign(privateKey);
    await compactVerify(probe, publicKey, { algorithms: [alg] });
    return privateKey;
  } catch {
    throw invalid(
      `key ${i} "${k.kid}" cannot be used: its private and public parts do not form a valid key pair`,
      {
        kid: k.kid,
      },
    );
  }
}

/**
 * A new private JWK Set with one key and a fresh `kid` (for `npm run keys -- generate`, the demo
 * and tests). Keep it secret: it holds the private part. What operators get is ES256 (the command
 * line and the demo ask for it: every JWT library verifies it); EdDSA stays the default here, for
 * the tests written against it.
 *
 * @example
 *   const keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet('ES256')));
 */
export async function generateSigningKeySet(alg: SigningAlg = 'EdDSA'): Promise<{ keys: JWK[] }> {
  const { privateKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : 'ES256', {
    extractable: true,
  });
  const jwk = await exportJWK(privateKey);
  const kid = `${new Date().toISOString().slice(0, 10)}-${randomBytes(6).toString('hex')}`;
  return { keys: [{ ...jwk, kid, alg, use: 'sig' }] };
}
