import { errors, type JWTPayload, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import { errorFor, JitgateError } from '../errors.js';
import { GrantIdSchema, type SlackUserId } from '../ids.js';
import { ACCESS_TOKEN_TYPE } from './access-token.js';
import type { SigningKeys } from './keys.js';

/** The claims of a verified access token; `sub` is the Slack user, `aud` the resource, `gid` the grant. */
export const AccessClaims = z.object({
  iss: z.string().min(1),
  sub: z
    .string()
    .min(1)
    .transform((s) => s as SlackUserId),
  aud: z.string().min(1),
  gid: GrantIdSchema,
  role: z.string().min(1),
  email: z.string(),
  iat: z.number(),
  nbf: z.number(),
  exp: z.number(),
  jti: z.string().optional(),
  /** `cookie`: minted for a browser's cookie, not for an Authorization header (see signAccessToken). */
  use: z.literal('cookie').optional(),
});
export type AccessClaims = z.infer<typeof AccessClaims>;

/** `fields.reason` of a `token_invalid` error: what exactly was wrong with the token. */
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

/** Longer than any token jitgate signs; refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8 * 1024;
// A token that brings its own key (or a place to fetch one) is an attack, even though jose's local
// key set would ignore it; `crit` asks for extensions jitgate does not implement.
const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'crit'];

/** `token_invalid` for this reason, worded by the catalogue (shared/messages.ts, TOKEN_PROBLEMS). */
export function tokenInvalid(reason: TokenFailure, fields: Record<string, unknown> = {}): JitgateError {
  return errorFor('token_invalid', { ...fields, reason });
}

export function tokenExpired(): JitgateError {
  return errorFor('token_expired', { reason: 'expired' });
}

/**
 * Checks what jose does not look at before the key lookup: size, shape and header parameters.
 * Returns the decoded header.
 */
export function checkCompactHeader(token: string, algorithms: readonly string[]): Record<string, unknown> {
  if (token.length > MAX_TOKEN_LENGTH) throw tokenInvalid('too_large');
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[\w-]*$/.test(p))) throw tokenInvalid('malformed');
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
  } catch {
    throw tokenInvalid('malformed');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw tokenInvalid('malformed');
  const h = header as Record<string, unknown>;
  if (FORBIDDEN_HEADERS.some((name) => Object.hasOwn(h, name))) throw tokenInvalid('header');
  if (typeof h.alg !== 'string' || !algorithms.includes(h.alg)) throw tokenInvalid('algorithm');
  if (typeof h.kid !== 'string' || h.kid === '') throw tokenInvalid('unknown_kid');
  return h;
}

/** Maps what jose throws to a jitgate error; jose's own error (which holds the payload) is not kept. */
export function fromJoseError(err: unknown): JitgateError {
  if (err instanceof JitgateError) return err;
  if (err instanceof errors.JWTExpired) return tokenExpired();
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return tokenInvalid('issuer');
    if (err.claim === 'aud') return tokenInvalid('audience');
    if (err.claim === 'nbf') return tokenInvalid('not_yet_valid');
    if (err.claim === 'typ') return tokenInvalid('type');
    return tokenInvalid('claims');
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return tokenInvalid('algorithm');
  }
  if (err instanceof errors.JWKSNoMatchingKey) return tokenInvalid('unknown_kid');
  if (err instanceof errors.JWSSignatureVerificationFailed) return tokenInvalid('signature');
  return tokenInvalid('malformed');
}

export interface AccessTokenVerifier {
  /**
   * Verifies a token and returns its claims. The signature is checked once and the claims cached
   * until `exp`; expiry and, when `expectedResource` is given, the audience are checked every time.
   * Throws `token_expired`, or `token_invalid` with a `reason` ({@link TokenFailure}).
   */
  verify(token: string, expectedResource?: string): Promise<AccessClaims>;
  /** Cache counters, for metrics and the benchmark. */
  stats(): { hits: number; misses: number; size: number };
}

export interface AccessTokenVerifierOptions {
  keys: SigningKeys;
  issuer: string;
  clock: Clock;
  /** Clock skew allowed on `exp` and `nbf`, in seconds. Default 5. */
  toleranceSec?: number;
  /** Verified tokens remembered, oldest use evicted first. Default 10 000. */
  cacheSize?: number;
}

/**
 * The authorizer's token check, cheap enough for every proxied request. Only the algorithms of
 * the loaded key set are accepted, keys come from that set only, and the token type must be
 * `jitgate-access+jwt`. Failures are never cached. A new key set means a new verifier.
 *
 * @example
 *   const verifier = createAccessTokenVerifier({ keys, issuer: config.JITGATE_PUBLIC_URL, clock: systemClock });
 *   try {
 *     const claims = await verifier.verify(token, 'grafana');
 *     console.log(claims.sub, claims.gid, claims.role);
 *   } catch (err) {
 *     if (isJitgateError(err, 'token_invalid') && err.fields.reason === 'audience') { ... }
 *   }
 */
export function createAccessTokenVerifier(options: AccessTokenVerifierOptions): AccessTokenVerifier {
  const { keys, issuer, clock } = options;
  const tolerance = options.toleranceSec ?? 5;
  const cacheSize = Math.max(0, options.cacheSize ?? 10_000);
  const cache = new Map<string, AccessClaims>();
  let hits = 0;
  let misses = 0;

  async function verifyFully(token: string): Promise<AccessClaims> {
    checkCompactHeader(token, keys.algorithms);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys.verifyKey, {
        algorithms: keys.algorithms,
        issuer,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['sub', 'aud', 'gid', 'role', 'exp', 'nbf', 'iat'],
        clockTolerance: tolerance,
        currentDate: new Date(clock.now()),
      }));
    } catch (err) {
      throw fromJoseError(err);
    }
    const claims = AccessClaims.safeParse(payload);
    if (!claims.success) throw tokenInvalid('claims');
    return claims.data;
  }

  function checkAudience(claims: AccessClaims, expected: string | undefined): AccessClaims {
    if (expected !== undefined && claims.aud !== expected) {
      throw tokenInvalid('audience', { audience: claims.aud, expected });
    }
    return claims;
  }

  return {
    async verify(token, expectedResource) {
      if (token.length > MAX_TOKEN_LENGTH) throw tokenInvalid('too_large');
      const cached = cache.get(token);
      if (cached) {
        hits += 1;
        cache.delete(token);
        if (clock.now() / 1000 > cached.exp + tolerance) throw tokenExpired();
        cache.set(token, cached); // most recently used goes last
        return checkAudience(cached, expectedResource);
      }
      misses += 1;
      const claims = await verifyFully(token);
      if (cacheSize > 0) {
        cache.set(token, claims);
        if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
      }
      return checkAudience(claims, expectedResource);
    },
    stats: () => ({ hits, misses, size: cache.size }),
  };
}
