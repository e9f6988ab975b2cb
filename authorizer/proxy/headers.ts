import type { IncomingHttpHeaders } from 'node:http';
import type { ClientInfo } from '../checks/client-address.js';
import { withoutOurCookies } from '../checks/credential.js';
import type { PublicAddress } from './public-address.js';

/** Who the upstream is told it is talking to. */
export interface Identity {
  user: string;
  email: string;
  grantId: string;
  role: string;
  /** A short-lived JWT signed by jitgate, audience = the resource. */
  assertion: string;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) that describe our connection with the client, not theirs with us. */
const HOP_BY_HOP = ['keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade'];
/** Connection options that name no header. */
const CONNECTION_OPTIONS = new Set(['close', 'keep-alive', 'upgrade']);
/**
 * Headers that some upstream frameworks read as the request's real method or path (method-override
 * middleware, Symfony, IIS URL Rewrite). The role check judged the method and path of the request
 * line; the upstream must not be told another one.
 */
const OVERRIDES = new Set([
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-method',
  'x-original-url',
  'x-rewrite-url',
]);
/**
 * Forwarding headers we only believe from a trusted proxy: what the usual frameworks read as the
 * client's address, scheme, host or path prefix (Express, Rails, Django, Spring, ASP.NET, Symfony).
 */
const FORWARDING = new Set([
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
  'x-forwarded-protocol',
  'x-url-scheme',
  'front-end-https',
  'x-original-host',
  'x-host',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'x-cluster-client-ip',
  'client-ip',
]);
/** Ours alone, even behind a trusted proxy: the prefix is where jitgate mounts the resource. */
const PREFIX = 'x-forwarded-prefix';

/**
 * Rewrites a request's headers, in place, into what the upstream receives: the token gone (the
 * `Authorization` header when it carried it, every jitgate cookie), every client-sent `X-JIT-*`
 * header gone in any spelling, headers named in `Connection:` gone (a client could otherwise name
 * `X-JIT-User` there so that a proxy in front of the upstream drops the one we set), then our
 * identity headers and X-Forwarded-* set. The same function serves HTTP and WebSocket upgrades.
 */
export function rewriteUpstreamHeaders(
  headers: IncomingHttpHeaders,
  opts: {
    identity: Identity;
    tokenFrom: 'bearer' | 'cookie';
    client: ClientInfo;
    /** Where people reach the resource (JITGATE_PUBLIC_URL): the scheme, host and prefix the upstream is told. */
    address: PublicAddress;
    websocket: boolean;
  },
): void {
  const connection = headers.connection;
  if (typeof connection === 'string') {
    for (const option of connection.split(',')) {
      const name = option.trim().toLowerCase();
      if (name !== '' && !CONNECTION_OPTIONS.has(name)) delete headers[name];
    }
  }
  for (const name of HOP_BY_HOP) {
    if (name === 'upgrade' && opts.websocket) continue;
    delete headers[name];
  }
  // An upgrade keeps `Connection: upgrade`; otherwise the keep-alive agent sets its own.
  if (opts.websocket) headers.connection = 'upgrade';
  else delete headers.connection;

  // Node lower-cases header names, so this catches X-JIT-User, x-Jit-user and the rest; `x_jit_user`
  // goes too, because CGI-style upstreams read `_` and `-` as the same (HTTP_X_JIT_USER). So does an
  // underscore spelling of a forwarding header (`X_Forwarded_Host`): no proxy sends one, and a
  // CGI-style upstream would read it as the real one.
  for (const name of Object.keys(headers)) {
    const dashed = name.replaceAll('_', '-');
    if (dashed.startsWith('x-jit-') || OVERRIDES.has(dashed) || dashed === PREFIX) delete headers[name];
    else if (dashed !== name && FORWARDING.has(dashed)) delete headers[name];
  }
  // We already answered `Expect: 100-continue` ourselves; passed on, it would also keep http-proxy from
  // emitting proxyReq, where the upstream timeout is noticed.
  delete headers.expect;

  if (opts.tokenFrom === 'bearer') delete headers.authorization;
  if (headers.cookie !== undefined) {
    const kept = withoutOurCookies(headers.cookie);
    if (kept === undefined) delete headers.cookie;
    else headers.cookie = kept;
  }

  setForwarded(headers, opts.client, opts.address);

  const { identity } = opts;
  headers['x-jit-user'] = identity.user;
  // No e-mail (a resource with requireEmail: false, a person Slack has none for): no header at all,
  // never an empty one that every such person would share.
  if (identity.email !== '') headers['x-jit-email'] = identity.email;
  headers['x-jit-grant'] = identity.grantId;
  headers['x-jit-role'] = identity.role;
  headers['x-jit-assertion'] = identity.assertion;
}

/**
 * X-Forwarded-For/Proto/Host/Prefix. From a trusted proxy (JITGATE_TRUSTED_PROXIES) we extend its
 * chain and keep the scheme and host it says; from anyone else every forwarding header the client
 * sent is replaced by our own: the socket peer as the client, and the scheme and host of the public
 * URL (a host resource's own host), never the request's Host header, so an upstream that builds
 * links from them builds ours. A pathPrefix resource's prefix always goes in X-Forwarded-Prefix,
 * so that an application can build its links under it.
 */
function setForwarded(headers: IncomingHttpHeaders, client: ClientInfo, address: PublicAddress): void {
  // http/https for upgrades too, as most reverse proxies send it: upstreams build URLs from it.
  const ownProto = address.protocol.replace(/:$/, '');
  if (address.prefix !== undefined) headers[PREFIX] = address.prefix;
  if (client.peerTrusted) {
    const chain = headers['x-forwarded-for'];
    headers['x-forwarded-for'] = chain ? `${chain}, ${client.peer}` : client.peer;
    headers['x-forwarded-proto'] ??= ownProto;
    headers['x-forwarded-host'] ??= address.host;
    return;
  }
  for (const name of FORWARDING) delete headers[name];
  headers['x-forwarded-for'] = client.peer;
  headers['x-forwarded-proto'] = ownProto;
  headers['x-forwarded-host'] = address.host;
}
