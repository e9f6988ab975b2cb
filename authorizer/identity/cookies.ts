import { createHash } from 'node:crypto';
import { cookieValue } from '../checks/credential.js';

/**
 * The sign-in cookies. All are HttpOnly, SameSite=Lax and host-only (never a Domain attribute, so
 * never a cookie for a parent domain). When the public URL is https they are Secure and carry the
 * `__Host-` prefix (Path=/, no Domain: the browser enforces both) or, for the login transaction
 * whose path is narrower, `__Secure-`. Every name contains `jitgate_`, so none reaches an upstream.
 */
export interface CookieJarRules {
  /** JITGATE_PUBLIC_URL is https. */
  secure: boolean;
}

/** Where the login transaction cookie is sent: only to the callback. */
export const CALLBACK_PATH = '/_jitgate/oauth2/callback';

export function sessionCookieName({ secure }: CookieJarRules): string {
  return secure ? '__Host-jitgate_session' : 'jitgate_session';
}

/**
 * One cookie per login transaction, named after its state, so two tabs signing in at once do not
 * overwrite each other and a callback finds exactly the transaction its state names.
 */
export function transactionCookieName(rules: CookieJarRules, state: string): string {
  return transactionCookieNameOf(rules, transactionId(state));
}

/** The short id of a transaction's cookie name (16 characters of the state's hash). */
export function transactionId(state: string): string {
  return createHash('sha256').update(state).digest('base64url').slice(0, 16);
}

export function transactionCookieNameOf({ secure }: CookieJarRules, id: string): string {
  return `${secure ? '__Secure-' : ''}jitgate_login_${id}`;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  return cookieValue(header, name);
}

/** A `Set-Cookie` value; `maxAgeSec` 0 deletes the cookie. */
export function setCookie(
  rules: CookieJarRules,
  name: string,
  value: string,
  opts: { maxAgeSec: number; path?: string },
): string {
  const parts = [
    `${name}=${value}`,
    'HttpOnly',
    'SameSite=Lax',
    `Path=${opts.path ?? '/'}`,
    `Max-Age=${Math.max(0, Math.floor(opts.maxAgeSec))}`,
  ];
  if (rules.secure) parts.push('Secure');
  return parts.join('; ');
}

export function clearCookie(rules: CookieJarRules, name: string, path = '/'): string {
  return setCookie(rules, name, '', { maxAgeSec: 0, path });
}
