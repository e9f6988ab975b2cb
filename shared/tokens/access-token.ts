import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../clock.js';
import type { SigningKeys } from './keys.js';

export const ACCESS_TOKEN_TYPE = 'jitgate-access+jwt';

export interface AccessTokenInput {
  issuer: string;
  grantId: string;
  user: string;
  email: string;
  resource: string;
  role: string;
  /** The grant's expiry, in ms: the token never outlives its grant. */
  expiresAt: number;
  /**
   * Minted for a browser's cookie (a browser redeem): marked `use: "cookie"`, so that with sign-in on
   * a copy of the cookie cannot be replayed as a bearer token, away from the holder's session.
   */
  forCookie?: boolean;
}

/**
 * Signs the bearer token of a grant. It names the grant (`gid`); the authorizer still checks the
 * live grant in Redis on every request, so the token alone never suffices.
 *
 * @example const token = await signAccessToken(keys, { issuer, grantId, user, email, resource, role, expiresAt }, clock);
 */
export async function signAccessToken(
  keys: SigningKeys,
  input: AccessTokenInput,
  clock: Clock,
): Promise<string> {
  const now = Math.floor(clock.now() / 1000);
  return new SignJWT({
    gid: input.grantId,
    role: input.role,
    email: input.email,
    ...(input.forCookie ? { use: 'cookie' } : {}),
  })
    .setProtectedHeader({ alg: keys.signing.alg, kid: keys.signing.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(input.issuer)
    .setSubject(input.user)
    .setAudience(input.resource)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(Math.floor(input.expiresAt / 1000))
    .setJti(randomBytes(12).toString('base64url'))
    .sign(keys.signing.key);
}
