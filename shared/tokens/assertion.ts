import { createLocalJWKSet, type JWK, jwtVerify, SignJWT } from 'jose';
import type { Clock } from '../clock.js';
import type { SigningKeys } from './keys.js';

export const ASSERTION_TYPE = 'jitgate-assertion+jwt';

export interface AssertionInput {
  grantId: string;
  user: string;
  email: string;
  resource: string;
  role: string;
}

/**
 * Signs the `X-JIT-Assertion` an upstream can verify with the public JWKS: at most 60 s long,
 * audience = the resource. One is cached per grant and role and re-signed only near its expiry.
 *
 * @example const assertion = await signer.get({ grantId, user, email, resource, role });
 */
export function createAssertionSigner(options: {
  keys: SigningKeys;
  issuer: string;
  clock: Clock;
  lifetimeSec?: number;
  renewBeforeSec?: number;
  cacheSize?: number;
}) {
  const lifetime = Math.min(options.lifetimeSec ?? 60, 60);
  const renewBefore = options.renewBeforeSec ?? 15;
  const max = options.cacheSize ?? 10_000;
  const cache = new Map<string, { token: string; exp: number }>();
  return {
    async get(input: AssertionInput): Promise<string> {
      const key = `${input.grantId}\u0000${input.role}\u0000${input.resource}`;
      const now = Math.floor(options.clock.now() / 1000);
      const hit = cache.get(key);
      if (hit && hit.exp - now > renewBefore) return hit.token;
      const exp = now + lifetime;
      const token = await new SignJWT({ gid: input.grantId, role: input.role, email: input.email })
        .setProtectedHeader({
          alg: options.keys.signing.alg,
          kid: options.keys.signing.kid,
          typ: ASSERTION_TYPE,
        })
        .setIssuer(options.issuer)
        .setSubject(input.user)
        .setAudience(input.resource)
        .setIssuedAt(now)
        .setExpirationTime(exp)
        .sign(options.keys.signing.key);
      cache.delete(key);
      cache.set(key, { token, exp });
      if (cache.size > max) cache.delete(cache.keys().next().value as string);
      return token;
    },
  };
}

/** How an upstream checks an assertion with jitgate's public JWKS (also used by the tests). */
export async function verifyAssertion(
  jwks: { keys: JWK[] },
  token: string,
  expected: { issuer: string; resource: string },
) {
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: expected.issuer,
    audience: expected.resource,
    typ: ASSERTION_TYPE,
    algorithms: ['EdDSA', 'ES256'],
    maxTokenAge: 60,
  });
  return payload;
}
