import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { LiveGrant } from '../../shared/grants/records.js';
import type { Resource } from '../../shared/policy/index.js';
import type { AccessTokenVerifier, SigningKeys } from '../../shared/tokens/index.js';
import { csrfToken, csrfValid, sameOrigin } from '../ask/csrf.js';
import { cookieNameOf, cookieValue } from '../checks/credential.js';
import { escapeHtml as h, htmlPage } from '../html-page.js';

/**
 * Login CSRF by redeem link, without sign-in: anyone can send a person their own redeem link, and
 * opening it would silently replace the access cookie in that person's browser with theirs, so
 * what the person then does is recorded as the link's holder's. So a browser remembers whose
 * access it last redeemed (the holder cookie, beside the access cookie), and a link of another
 * holder asks first: a page with one button, a POST carrying an anti-forgery token tied to a
 * SameSite=Strict cookie and to the code, accepted only from this origin. The same holder
 * redeeming again is not asked. (With sign-in on, a redeem needs the holder's own session, so
 * there is nothing to ask: see redeem-binding.ts.)
 */

export const REDEEM_PATH = '/_jitgate/redeem';
/** Whose access this browser last redeemed on this host: `<user>.<kid>.<mac>`, sent only to the redeem path. */
export const HOLDER_COOKIE = 'jitgate_holder';
/** The confirmation's nonce: SameSite=Strict, so no other site's form can carry it. */
export const CONFIRM_COOKIE = 'jitgate_redeem_confirm';
/** Longer than any grant: the browser stays known after its access ended (a new link is asked about too). */
const HOLDER_MAX_AGE_SEC = 30 * 86_400;
const CONFIRM_MAX_AGE_SEC = 600;
const HOLDER_PURPOSE = 'jitgate redeem holder v1';

const attributes = (path: string, maxAge: number, secure: boolean, sameSite = 'Lax') =>
  `HttpOnly; SameSite=${sameSite}; Path=${path}; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;

/** The holder cookie for a browser that has just redeemed `user`'s grant. */
export function holderCookie(keys: SigningKeys, user: string, secure: boolean): string {
  const kid = keys.signing.kid;
  return `${HOLDER_COOKIE}=${user}.${kid}.${holderMac(keys, kid, user)}; ${attributes(REDEEM_PATH, HOLDER_MAX_AGE_SEC, secure)}`;
}

/** Clears the confirmation nonce once it has served. */
export function clearConfirmCookie(secure: boolean): string {
  return `${CONFIRM_COOKIE}=; ${attributes(REDEEM_PATH, 0, secure, 'Strict')}`;
}

function holderMac(keys: SigningKeys, kid: string, user: string): string | undefined {
  const secret = keys.deriveSecret(kid, HOLDER_PURPOSE);
  return secret && createHmac('sha256', secret).update(user).digest('base64url');
}

/**
 * Whose access this browser holds for `resource` on this host, as far as it can be told: the holder
 * cookie when it is ours (its MAC checks out), else the resource's own access cookie when it is
 * visible here (a host resource's, `Path=/`) and verifies. Undefined when neither says.
 */
export async function previousHolder(
  deps: { keys: SigningKeys; verifier?: AccessTokenVerifier | undefined },
  req: Request,
  resource: Resource,
): Promise<string | undefined> {
  const marker = cookieValue(req.headers.cookie, HOLDER_COOKIE);
  if (marker !== undefined && marker.length <= 512) {
    const first = marker.indexOf('.');
    const last = marker.lastIndexOf('.');
    if (first > 0 && last > first) {
      const user = marker.slice(0, first);
      const expected = holderMac(deps.keys, marker.slice(first + 1, last), user);
      const given = Buffer.from(marker.slice(last + 1));
      if (
        expected !== undefined &&
        given.length === expected.length &&
        timingSafeEqual(given, Buffer.from(expected))
      )
        return user;
    }
  }
  const token = cookieValue(req.headers.cookie, cookieNameOf(resource.name));
  if (token === undefined || deps.verifier === undefined) return undefined;
  try {
    return (await deps.verifier.verify(token, resource.name)).sub;
  } catch {
    return undefined;
  }
}

/** The anti-forgery token of one confirmation: its nonce and its code, under the signing keys' secret. */
const confirmation = (nonce: string, code: string) => `redeem:${nonce}:${code}`;

/**
 * "This link would replace the access in this browser": the page with the one button that goes on.
 * Framing is refused (the button must not be clicked through another page), and the referrer
 * stays on this origin (the form's POST needs its Origin; no-referrer would make it `null`).
 */
export function sendConfirmPage(
  res: Response,
  page: {
    keys: SigningKeys;
    code: string;
    resource: Resource;
    grant: LiveGrant;
    previous: string;
    secure: boolean;
  },
): void {
  const nonce = randomBytes(18).toString('base64url');
  const csrf = csrfToken(page.keys, confirmation(nonce, page.code));
  const { resource, grant } = page;
  const holder = `${h(grant.user)}${grant.email ? ` (${h(grant.email)})` : ''}`;
  const body = `<h1>This link would replace the access in this browser</h1>
<p>It gives access to <b>${h(resource.name)}</b> (role <code>${h(grant.role)}</code>) as <code>${holder}</code>, the person it was issued to.
This browser holds the access of <code>${h(page.previous)}</code>.</p>
<p><b>If you did not ask for this link yourself, close this page.</b> Someone may be trying to have what you do here recorded as theirs.</p>
<form method="post" action="${REDEEM_PATH}">
<input type="hidden" name="code" value="${h(page.code)}">
<input type="hidden" name="csrf" value="${h(csrf)}">
<button type="submit">Use the access of ${h(grant.user)} in this browser</button>
</form>`;
  const html = htmlPage({ title: 'replace the access here?', body, status: 200, code: 'confirm_redeem' });
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'Set-Cookie': `${CONFIRM_COOKIE}=${nonce}; ${attributes(REDEEM_PATH, CONFIRM_MAX_AGE_SEC, page.secure, 'Strict')}`,
  });
  res.end(html);
}

/**
 * The confirmation's POST: from this origin, with the nonce cookie and the token the page gave for
 * this code. Answers the code to redeem, or undefined when it wrote the refusal (403
 * `csrf_refused`: a form from another site, an old or copied page, a token for another code).
 */
export function confirmedCode(
  keys: SigningKeys,
  publicUrl: URL,
  req: Request,
  res: Response,
): string | undefined {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const code = typeof body.code === 'string' && body.code.length <= 128 ? body.code : undefined;
  const nonce = cookieValue(req.headers.cookie, CONFIRM_COOKIE);
  if (!sameOrigin(req, publicUrl)) {
    refuseForgery(res, req, 'This confirmation was sent from another site. Open your redeem link again.');
    return undefined;
  }
  if (code === undefined || nonce === undefined || !csrfValid(keys, confirmation(nonce, code), body.csrf)) {
    refuseForgery(
      res,
      req,
      'This confirmation is out of date or not from this browser. Open your redeem link again.',
    );
    return undefined;
  }
  return code;
}

function refuseForgery(res: Response, req: Request, message: string): void {
  const hint = 'Open the redeem link from your own Slack DM; if you did not ask for access, ignore it.';
  res.set({ 'Cache-Control': 'no-store', 'X-Frame-Options': 'DENY' });
  if ((req.headers.accept ?? '').includes('text/html')) {
    res
      .status(403)
      .type('html')
      .send(
        htmlPage({
          title: 'refused',
          body: `<h1>${h(message)}</h1><p>${h(hint)}</p>`,
          status: 403,
          code: 'csrf_refused',
        }),
      );
    return;
  }
  res.status(403).json({ error: 'csrf_refused', message, hint });
}
