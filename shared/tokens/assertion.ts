import { createLocalJWKSet, type JWK, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { SigningKeys } from './keys.js';
import { AccessClaims, checkCompactHeader, fromJoseError, tokenInvalid } from './verifier.js';

export const ASSERTION_TYPE = 'jitgate-assertion+jwt';
/** No assertion lives longer than this, whatever the options say. */
export const MAX_ASSERTION_LIFETIME_SEC = 60;

export interface AssertionInput {
  grantId: string;
  user: string;
  email: string;
  resource: string;
  role: string;
}

export interface AssertionSignerOptions {
  keys: SigningKeys;
  issuer: string;
  clock: Clock;
  /** Capped at 60 s. Default 60. */
  lifetimeSec?: number;
  /** A cached assertion is re-signed once fewer seconds than this remain. Default 15. */
  renewBeforeSec?: number;
  /** Assertions remembered (one per grant and role), oldest evicted first. Default 10 000. */
  cacheSize?: number;
}

export interface AssertionSigner {
  get(input: AssertionInput): Promise<string>;
}

/**
 * Signs the `X-JIT-Assertion` that tells an upstream who is calling: audience = the resource,
 * at most 60 s long. One is cached per grant and role and re-signed only near its expiry, so a
 * busy grant costs one signature every ~45 s rather than one per request.
 *
 * @example
 *   const assertions = createAssertionSigner({ keys, issuer: config.JITGATE_PUBLIC_URL, clock: systemClock });
 *   proxyReq.setHeader('X-JIT-Assertion', await assertions.get({ grantId, user, email, resource, role }));
 */
export function createAssertionSigner(options: AssertionSignerOptions): AssertionSigner {
  const { keys, issuer, clock } = options;
  const lifetime = Math.min(options.lifetimeSec ?? MAX_ASSERTION_LIFETIME_SEC, MAX_ASSERTION_LIFETIME_SEC);
  const renewBefore = options.renewBeforeSec ?? 15;
  const max = Math.max(1, options.cacheSize ?? 10_000);
  const cache = new Map<string, { token: string; exp: number }>();
  return {
    async get(input) {
      // Every claim is part of the key, so a cached assertion can only ever say what it was asked to.
      const key = [input.grantId, input.role, input.resource, input.user, input.email].join('\u0000');
      const now = Math.floor(clock.now() / 1000);
      const hit = cache.get(key);
      if (hit && hit.exp - now > renewBefore) return hit.token;
      const exp = now + lifetime;
      // No e-mail, no claim: an upstream must never see one empty address shared by everyone without one.
      const claims = {
        gid: input.grantId,
        role: input.role,
        ...(input.email !== '' ? { email: input.email } : {}),
      };
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: keys.signing.alg, kid: keys.signing.kid, typ: ASSERTION_TYPE })
        .setIssuer(issuer)
        .setSubject(input.user)
        .setAudience(input.resource)
        .setIssuedAt(now)
        .setExpirationTime(exp)
        .sign(keys.signing.key);
      cache.delete(key);
      cache.set(key, { token, exp });
      if (cache.size > max) cache.delete(cache.keys().next().value as string);
      return token;
    },
  };
}

/**
 * An assertion carries an access token's identity claims, without `nbf` or `jti`; `email` is absent
 * for a person without one (never empty).
 */
export const AssertionClaims = AccessClaims.omit({ nbf: true, jti: true, email: true }).extend({
  email: z.string().min(1).optional(),
});
export type AssertionClaims = z.infer<typeof AssertionClaims>;

/**
 * How an upstream checks an `X-JIT-Assertion` with jitgate's public JWKS (`/_jitgate/jwks.json`).
 * An access token is refused here (`type`), as an assertion is refused by the access verifier.
 * Throws `token_expired` or `token_invalid` with a `reason`, like the access token verifier.
 *
 * @example
 *   const jwks = await (await fetch('https://access.example.com/_jitgate/jwks.json')).json();
 *   const who = await verifyAssertion(jwks, req.headers['x-jit-assertion'], { issuer, resource: 'grafana' });
 */
export async function verifyAssertion(
  jwks: { keys: JWK[] },
  token: string,
  expected: { issuer: string; resource: string; clock?: Clock; toleranceSec?: number },
): Promise<AssertionClaims> {
  const algorithms = [
    ...new Set(jwks.keys.map((k) => k.alg).filter((a): a is string => a === 'EdDSA' || a === 'ES256')),
  ];
  let payload: JWTPayload;
  try {
    checkCompactHeader(token, algorithms);
    ({ payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      algorithms,
      issuer: expected.issuer,
      audience: expected.resource,
      typ: ASSERTION_TYPE,
      requiredClaims: ['sub', 'gid', 'role', 'iat', 'exp'],
      maxTokenAge: MAX_ASSERTION_LIFETIME_SEC,
      clockTolerance: expected.toleranceSec ?? 5,
      ...(expected.clock ? { currentDate: new Date(expected.clock.now()) } : {}),
    }));
  } catch (err) {
    throw fromJoseError(err);
  }
  const claims = AssertionClaims.safeParse(payload);
  if (!claims.success || claims.data.exp - claims.data.iat > MAX_ASSERTION_LIFETIME_SEC) {
    throw tokenInvalid('claims');
  }
  return claims.data;
}
