import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SigningKeys } from '../../shared/tokens/index.js';

const PURPOSE = 'jitgate ask csrf v1';

/**
 * The request form's anti-forgery token: an HMAC of the session's id under a secret derived from
 * the signing keys (`<kid>.<mac>`), so it needs no storage, every authorizer makes and checks the
 * same one, and a token taken from one session is worth nothing in another.
 *
 * @example const token = csrfToken(keys, session.sid); csrfValid(keys, session.sid, form.csrf) // true
 */
export function csrfToken(keys: SigningKeys, sid: string): string {
  const kid = keys.signing.kid;
  return `${kid}.${mac(keys, kid, sid)!}`;
}

/** Whether `token` was made by csrfToken for this session (by any key still in the set). */
export function csrfValid(keys: SigningKeys, sid: string, token: unknown): boolean {
  if (typeof token !== 'string' || token.length > 512) return false;
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return false;
  const expected = mac(keys, token.slice(0, dot), sid);
  if (expected === undefined) return false;
  const given = Buffer.from(token.slice(dot + 1));
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function mac(keys: SigningKeys, kid: string, sid: string): string | undefined {
  const secret = keys.deriveSecret(kid, PURPOSE);
  return secret && createHmac('sha256', secret).update(sid).digest('base64url');
}

/**
 * Whether a POST comes from a page of the host it is sent to. SameSite=Lax keeps the session cookie
 * off cross-site POSTs in today's browsers, but not a same-site sibling's (another host under the
 * same registrable domain, which may be an upstream's page) nor older browsers', so the form's
 * `Origin` must be this very origin; without Origin, the Referer's; with neither, it is refused.
 */
export function sameOrigin(req: Pick<IncomingMessage, 'headers'>, publicUrl: URL): boolean {
  const host = req.headers.host;
  if (!host) return false;
  const expected = `${publicUrl.protocol}//${host}`.toLowerCase();
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== '') return origin.toLowerCase() === expected;
  const referer = req.headers.referer;
  if (typeof referer !== 'string' || referer === '') return false;
  try {
    return new URL(referer).origin.toLowerCase() === expected;
  } catch {
    return false;
  }
}
