import type { IncomingHttpHeaders } from 'node:http';
import { messageOf } from '../../shared/messages.js';
import { requestTargetProblem } from '../checks/path.js';
import { type Refusal, refusal } from '../refusals.js';

/** The request an ingress asks about: what the client sent it, as the ingress passes it on. */
export interface OriginalRequest {
  method: string;
  /** Path and query as the client sent them (nginx's `$request_uri`). */
  uri: string;
  /** The Host the client asked for; undefined when the ingress passed none of its own. */
  host: string | undefined;
  /** The client asked to upgrade to a WebSocket (the ingress passed its `Upgrade` header). */
  websocket: boolean;
}

/**
 * Where each ingress puts the original method and URI: nginx's `auth_request` (by the
 * configuration in the README) `X-Original-Method`/`X-Original-URI`, Traefik's ForwardAuth and
 * Envoy (by the README's `headers_to_add`) `X-Forwarded-Method`/`X-Forwarded-Uri`.
 */
const METHOD_HEADERS = ['x-original-method', 'x-forwarded-method'] as const;
const URI_HEADERS = ['x-original-uri', 'x-forwarded-uri'] as const;

/** An HTTP method as RFC 9110 spells one (a token); compared upper-case, as the proxy path sees it. */
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
/** A host and optional port, as a Host header carries one: no list, no path, no user info. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$/;

const NOT_TRUSTED: Refusal = {
  code: 'network_not_allowed',
  message: 'jitgate answers forward-auth requests only from the ingress proxies in JITGATE_TRUSTED_PROXIES.',
  hint: 'Reach the service through its ingress. Operators: add the ingress address to JITGATE_TRUSTED_PROXIES (see the README, Forward-auth mode).',
};

function invalid(message: string): Refusal {
  return refusal('input_invalid', {}, `${message} (see the README, Forward-auth mode).`);
}

/**
 * The original request of a forward-auth call, or why it cannot be judged. Fail closed: only a
 * trusted proxy (JITGATE_TRUSTED_PROXIES) is believed at all, so a client that reaches the route
 * directly is refused whatever it sends; a header sent twice, two conventions that disagree, a
 * method or URI missing or malformed are refused, never guessed.
 *
 * @example originalRequest(req.headersDistinct, true) // { ok: true, request: { method: 'GET', uri: '/grafana/', ... } }
 */
export function originalRequest(
  headers: Record<string, string[] | undefined>,
  peerTrusted: boolean,
): { ok: true; request: OriginalRequest } | { ok: false; refusal: Refusal } {
  if (!peerTrusted) return { ok: false, refusal: NOT_TRUSTED };
  const method = oneOf(headers, METHOD_HEADERS);
  const uri = oneOf(headers, URI_HEADERS);
  const host = oneOf(headers, ['x-forwarded-host', 'host']);
  if (typeof method === 'object') return method;
  if (typeof uri === 'object') return uri;
  if (typeof host === 'object') return host;
  if (method === undefined || uri === undefined) {
    return {
      ok: false,
      refusal: invalid(
        'The ingress must pass the original method and URI: X-Original-Method and X-Original-URI (nginx), or X-Forwarded-Method and X-Forwarded-Uri (Traefik, Envoy)',
      ),
    };
  }
  if (!METHOD.test(method))
    return { ok: false, refusal: invalid('The original method is not an HTTP method') };
  const problem = requestTargetProblem(uri);
  if (problem) return { ok: false, refusal: refusal('bad_path', {}, messageOf('bad_path', { problem })) };
  if (host !== undefined && !HOST.test(host)) {
    return { ok: false, refusal: invalid('X-Forwarded-Host must be one host name, with an optional port') };
  }
  const upgrade = headers.upgrade;
  return {
    ok: true,
    request: {
      method: method.toUpperCase(),
      uri,
      host,
      websocket: upgrade?.some((u) => u.toLowerCase() === 'websocket') === true,
    },
  };
}

/**
 * The one value the first of `names` present carries (a later name must agree with it); undefined
 * when none is present; a refusal when one is sent twice or two disagree.
 */
function oneOf(
  headers: Record<string, string[] | undefined>,
  names: readonly string[],
): string | undefined | { ok: false; refusal: Refusal } {
  let value: string | undefined;
  for (const name of names) {
    const values = headers[name];
    if (values === undefined) continue;
    if (values.length !== 1) {
      return { ok: false, refusal: invalid(`The ${name} header was sent more than once`) };
    }
    const v = values[0]!.trim();
    if (value === undefined) value = v;
    else if (name !== 'host' && v !== value) {
      return { ok: false, refusal: invalid(`The ${names.join(' and ')} headers disagree`) };
    }
  }
  return value;
}

/** The headers of the original request that the checks read: the credential, the client chain, Accept. */
export function originalHeaders(headers: IncomingHttpHeaders, host: string | undefined): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  if (host !== undefined) out.host = host;
  if (headers.authorization !== undefined) out.authorization = headers.authorization;
  if (headers.cookie !== undefined) out.cookie = headers.cookie;
  if (headers['x-forwarded-for'] !== undefined) out['x-forwarded-for'] = headers['x-forwarded-for'];
  if (headers.accept !== undefined) out.accept = headers.accept;
  return out;
}
