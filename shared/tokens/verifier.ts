import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { JitgateError } from '../errors.js';
import type { GrantId, SlackUserId } from '../ids.js';
import { ACCESS_TOKEN_TYPE } from './access-token.js';
import type { SigningKeys } from './keys.js';

export const AccessClaims = z.object({
  iss: z.string(),
  sub: z
    .string()
    .min(1)
    .transform((s) => s as SlackUserId),
  aud: z.string().min(1),
  gid: z
    .string()
    .regex(/^g_[a-z2-7]{26}$/)
    .transform((s) => s as GrantId),
  role: z.string().min(1),
  email: z.string(),
  iat: z.number(),
  nbf: z.number(),
  exp: z.number(),
  jti: z.string().optional(),
});
export type AccessClaims = z.infer<typeof AccessClaims>;

export type TokenFailure =
  | 'malformed'
  | 'signature'
  | 'algorithm'
  | 'unknown_kid'
  | 'issuer'
  | 'audience'
  | 'not_yet_valid'
  | 'claims'
  | 'type'
  | 'header'
  | 'too_large';

const MAX_TOKEN_BYTES = 8 * 1024;
/** Header parameters that carry keys or key locations: a token choosing its own key is an attack. */
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'crit'];

export function tokenInvalid(reason: TokenFailure, message = 'The access token is not valid.'): JitgateError {
  return new JitgateError('token_invalid', message, { reason });
}

export interface AccessTokenVerifier {
  /** Verifies a token (signature checked once, then cached until `exp`); the audience is checked every time. */
  verify(token: string, expectedResource?: string): Promise<AccessClaims>;
  stats(): { hits: number; misses: number; size: number };
}

/**
 * @example
 *   const verifier = createAccessTokenVerifier({ keys, issuer: config.JITGATE_PUBLIC_URL, clock: systemClock });
 *   const claims = await verifier.verify(token, 'grafana');
 */
export function createAccessTokenVerifier(options: {
  keys: SigningKeys;
  issuer: string;
  clock: Clock;
  toleranceSec?: number;
  cacheSize?: number;
}): AccessTokenVerifier {
  const { keys, issuer, clock } = options;
  const tolerance = options.toleranceSec ?? 5;
  const cacheSize = options.cacheSize ?? 10_000;
  const cache = new Map<string, AccessClaims>();
  let hits = 0;
  let misses = 0;

  function checkTime(claims: AccessClaims): void {
    const now = clock.now() / 1000;
    if (now > claims.exp + tolerance)
      throw new JitgateError('token_expired', 'The access token has expired.', {});
    if (now < claims.nbf - tolerance)
      throw tokenInvalid('not_yet_valid', 'The access token is not valid yet.');
  }

  function checkAudience(claims: AccessClaims, expected?: string): AccessClaims {
    if (expected !== undefined && claims.aud !== expected) {
      throw tokenInvalid('audience', `This token is for ${claims.aud}, not ${expected}.`);
    }
    return claims;
  }

  async function verifySignature(token: string): Promise<AccessClaims> {
    if (token.length > MAX_TOKEN_BYTES) throw tokenInvalid('too_large');
    let header: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(token) as Record<string, unknown>;
    } catch {
      throw tokenInvalid('malformed');
    }
    if (token.split('.').length !== 3) throw tokenInvalid('malformed');
    if (FORBIDDEN_HEADERS.some((h) => h in header)) throw tokenInvalid('header');
    if (typeof header.alg !== 'string' || !(keys.algorithms as string[]).includes(header.alg)) {
      throw tokenInvalid('algorithm');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys.verifyKey, {
        algorithms: keys.algorithms,
        issuer,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['sub', 'aud', 'exp', 'nbf', 'iat'],
        clockTolerance: tolerance,
        currentDate: new Date(clock.now()),
      }));
    } catch (err) {
      throw mapJoseError(err);
    }
    const claims = AccessClaims.safeParse(payload);
    if (!claims.success) throw tokenInvalid('claims');
    return claims.data;
  }

  return {
    async verify(token, expectedResource) {
      const cached = cache.get(token);
      if (cached) {
        hits += 1;
        checkTime(cached);
        return checkAudience(cached, expectedResource);
      }
      misses += 1;
      const claims = await verifySignature(token);
      checkTime(claims);
      cache.set(token, claims);
      if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
      return checkAudience(claims, expectedResource);
    },
    stats: () => ({ hits, misses, size: cache.size }),
  };
}

function mapJoseError(err: unknown): JitgateError {
  if (err instanceof errors.JWTExpired)
    return new JitgateError('token_expired', 'The access token has expired.', {});
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return tokenInvalid('issuer');
    if (err.claim === 'nbf') return tokenInvalid('not_yet_valid', 'The access token is not valid yet.');
    if (err.claim === 'typ') return tokenInvalid('type');
    return tokenInvalid('claims');
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported)
    return tokenInvalid('algorithm');
  if (err instanceof errors.JWKSNoMatchingKey) return tokenInvalid('unknown_kid');
  if (err instanceof errors.JWSSignatureVerificationFailed) return tokenInvalid('signature');
  if (err instanceof errors.JOSEError && err.code === 'ERR_JWS_INVALID' && /crit/i.test(err.message)) {
    return tokenInvalid('header');
  }
  return tokenInvalid('malformed');
}
