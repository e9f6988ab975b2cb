import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/** Ids are branded so that a grant id cannot be passed where a request id is expected. */
export type GrantId = string & { readonly __brand: 'GrantId' };
export type RequestId = string & { readonly __brand: 'RequestId' };
export type SlackUserId = string & { readonly __brand: 'SlackUserId' };

// 16 random bytes in base32 (lowercase, no padding): unguessable, URL- and Slack-safe.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
function randomId(prefix: string): string {
  const bytes = randomBytes(16);
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return `${prefix}_${out}`;
}

export const newRequestId = (): RequestId => randomId('r') as RequestId;

/**
 * A grant's id is its request's id with another prefix: a grant (live or ended) always leads back to
 * its request, with no index to keep. Neither id is a secret; the token is.
 *
 * @example grantIdOf('r_abc…' as RequestId) // 'g_abc…'
 */
export const grantIdOf = (requestId: RequestId): GrantId => `g_${requestId.slice(2)}` as GrantId;
/** The request a grant came from (the inverse of `grantIdOf`). */
export const requestIdOf = (grantId: GrantId): RequestId => `r_${grantId.slice(2)}` as RequestId;

export const GrantIdSchema = z
  .string()
  .regex(/^g_[a-z2-7]{26}$/, 'a grant id looks like g_ followed by 26 letters and digits')
  .transform((s) => s as GrantId);
export const RequestIdSchema = z
  .string()
  .regex(/^r_[a-z2-7]{26}$/, 'a request id looks like r_ followed by 26 letters and digits')
  .transform((s) => s as RequestId);
export const SlackUserIdSchema = z
  .string()
  .regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id looks like U0123ABCD')
  .transform((s) => s as SlackUserId);
