import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../shared/clock.js';
import type { Policy } from '../../shared/policy/index.js';
import type { AccessTokenVerifier } from '../../shared/tokens/index.js';
import type { ClientResolver } from './client-address.js';
import type { AccessContext, Check } from './context.js';
import { credentialCheck } from './credential.js';
import { type GrantReader, grantCheck } from './grant.js';
import { networkCheck } from './network.js';
import { roleCheck } from './role.js';
import { routeCheck } from './route.js';
import { tokenCheck } from './token.js';

/** An attempt that came as an HTTP request or WebSocket upgrade: where HTTP carries route and token. */
export interface HttpAccess extends AccessContext {
  /** The Host header, for `match.host` routes. */
  readonly host: string | undefined;
  readonly authorization: string | undefined;
  readonly cookies: string | undefined;
  /** Where the token was found, so that only that copy is removed before the upstream sees the request. */
  tokenFrom: 'bearer' | 'cookie' | undefined;
}

/**
 * The HTTP adapter: the context the checks read, built from a request whose target has already
 * passed requestTargetProblem. Every field is set here, so that every context has one shape.
 */
export function httpAccess(
  req: IncomingMessage,
  websocket: boolean,
  resolveClient: ClientResolver,
): HttpAccess {
  const headers = req.headers;
  return {
    client: resolveClient(req.socket.remoteAddress, headerValue(headers['x-forwarded-for'])),
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    websocket,
    token: undefined,
    host: headers.host,
    authorization: headers.authorization,
    cookies: headers.cookie,
    tokenFrom: undefined,
    resource: undefined,
    upstreamPath: undefined,
    user: undefined,
    email: undefined,
    grantId: undefined,
    roleName: undefined,
    expiresAt: undefined,
    role: undefined,
  };
}

export interface HttpCheckDeps {
  policy: () => Policy;
  verifier: AccessTokenVerifier;
  store: GrantReader;
  clock: Clock;
}

/**
 * The decision for an HTTP request or upgrade, in the order of DESIGN.md: route, token (found, then
 * verified), grant, role, network. The first refusal wins, so this order is the order in which
 * refusals are reported. The grant check is the only Redis round trip.
 *
 * @example const checks = httpChecks({ policy, verifier, store, clock }); const refused = await runChecks(checks, ctx);
 */
export function httpChecks(deps: HttpCheckDeps): Check<HttpAccess>[] {
  return [
    routeCheck(deps.policy),
    credentialCheck,
    tokenCheck(deps.verifier),
    grantCheck({ store: deps.store, clock: deps.clock }),
    roleCheck,
    networkCheck,
  ];
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h.join(', ') : h;
}
