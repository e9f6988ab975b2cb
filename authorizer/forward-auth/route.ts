import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../shared/log.js';
import { noteDecision } from '../access-log.js';
import type { ClientResolver } from '../checks/client-address.js';
import { signedInAs } from '../checks/session.js';
import type { Gate } from '../gate.js';
import { prefersHtml, sendRefusal } from '../refusal-response.js';
import { refusal } from '../refusals.js';
import { originalHeaders, originalRequest } from './original.js';

/** The route an ingress asks (nginx `auth_request`, Traefik ForwardAuth, Envoy ext_authz over HTTP). */
export const FORWARD_AUTH_PATH = '/_jitgate/auth';

/** The identity headers, as the proxy path sends them upstream (proxy/headers.ts). */
const IDENTITY = ['x-jit-user', 'x-jit-email', 'x-jit-grant', 'x-jit-role', 'x-jit-assertion'] as const;

export interface ForwardAuthDeps {
  gate: Gate;
  resolveClient: ClientResolver;
  /**
   * With sign-in on: where a browser refused for want of a session signs in and comes back to the
   * page it asked for (undefined when that page cannot be returned to).
   */
  signInUrl?: ((host: string | undefined, uri: string) => string | undefined) | undefined;
  log: Logger;
}

/**
 * `/_jitgate/auth`: the same decision as the proxy path, for an ingress that proxies itself. It is
 * answered here, on plain node:http ahead of Express (`other` gets every other request): in
 * forward-auth mode every request of every protected service is an ask, and Express's routing cost
 * about 100 µs of the authorizer's CPU per ask on the bench. Any method and any path below it
 * (Envoy's ext_authz asks with the original method at its path_prefix + the original path): neither
 * is believed, the original comes from the ingress's headers, believed only from
 * JITGATE_TRUSTED_PROXIES; the credential from the client's own Authorization and Cookie headers,
 * which the ingress passes on. The gate runs the same ordered checks with the same one Redis read,
 * and counts, audits and notes use as for a proxied request. Allowed: 200 (empty) with the identity
 * headers the upstream would have received. Refused: the same status and body as the proxy path; a
 * browser that needs to sign in also gets `X-JIT-Sign-In` (for nginx's `error_page 401`), or, with
 * `?signin=redirect` (Traefik: it passes the answer to the client), a 302 there.
 *
 * @example createFront({ express: forwardAuthFirst(deps, app), ... })
 */
export function forwardAuthFirst(
  deps: ForwardAuthDeps,
  other: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return function ownRoutes(req, res) {
    if (!isForwardAuthPath(req.url ?? '')) {
      other(req, res);
      return;
    }
    forwardAuth(deps, req, res).catch((err: unknown) => {
      deps.log.error({ err }, 'forward-auth failed');
      sendRefusal(res, refusal('internal_error'), req.headers.accept);
    });
  };
}

/** `/_jitgate/auth`, alone or followed by `/…` or `?…`, in any case (as Express would match it). */
export function isForwardAuthPath(url: string): boolean {
  const n = FORWARD_AUTH_PATH.length;
  if (url.length < n || url.slice(0, n).toLowerCase() !== FORWARD_AUTH_PATH) return false;
  const next = url.charCodeAt(n);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63; /* ? */
}

async function forwardAuth(deps: ForwardAuthDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.setHeader('Cache-Control', 'no-store');
  const { peerTrusted } = deps.resolveClient(req.socket.remoteAddress, undefined);
  const read = originalRequest(req.headersDistinct, peerTrusted);
  if (!read.ok) {
    sendRefusal(res, read.refusal, req.headers.accept);
    return;
  }
  const original = read.request;
  const headers = originalHeaders(req.headers, original.host);
  const sentCookies = headers.cookie !== undefined;
  const result = await deps.gate(
    { method: original.method, url: original.uri, headers, socket: req.socket },
    original.websocket,
  );
  noteDecision(res, result.decision);
  if (result.ok) {
    // 200, not 204: Envoy's ext_authz takes only 200 as allowed.
    res.writeHead(200, { ...identityOf(headers, sentCookies), 'Content-Length': 0 });
    res.end();
    return;
  }
  if (result.signInNeeded && deps.signInUrl && wantsSignIn(original.method, req.headers)) {
    const to = deps.signInUrl(original.host, original.uri);
    if (to !== undefined) {
      if (wantsRedirect(req.url ?? '')) {
        res.writeHead(302, { Location: to });
        res.end();
        return;
      }
      res.setHeader('X-JIT-Sign-In', to);
    }
  }
  sendRefusal(res, result.refusal, req.headers.accept, result.session && signedInAs(result.session));
}

/** `?signin=redirect` on the ask (exactly once): the ingress passes a 302 on to the browser. */
function wantsRedirect(url: string): boolean {
  const q = url.indexOf('?');
  if (q === -1) return false;
  const values = new URLSearchParams(url.slice(q + 1)).getAll('signin');
  return values.length === 1 && values[0] === 'redirect';
}

/**
 * What the gate wrote for the upstream: the identity headers (no e-mail: none at all) and, when the
 * client sent cookies, `X-JIT-Cookie`: its Cookie header without jitgate's own cookies (an access
 * token, a session; empty when nothing else is left), for the ingress to send upstream instead, as
 * the proxy path does (an upstream on the shared origin must not get a session that opens the others).
 */
function identityOf(headers: IncomingHttpHeaders, sentCookies: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of IDENTITY) {
    const value = headers[name];
    if (typeof value === 'string') out[name] = value;
  }
  if (sentCookies) out['x-jit-cookie'] = headers.cookie ?? '';
  return out;
}

/** As on the proxy path: a browser asking for a page, with no bearer token of its own. */
function wantsSignIn(method: string, headers: IncomingHttpHeaders): boolean {
  return (
    prefersHtml(headers.accept) &&
    headers.authorization === undefined &&
    (method === 'GET' || method === 'HEAD')
  );
}
