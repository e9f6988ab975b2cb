import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../../shared/clock.js';
import type { Policy } from '../../shared/policy/index.js';
import type { AccessTokenVerifier } from '../../shared/tokens/index.js';
import type { Session } from '../identity/session.js';
import type { ClientResolver } from './client-address.js';
import { type AccessContext, type Check, refuse } from './context.js';
import { credentialCheck } from './credential.js';
import { type GrantReader, grantCheck } from './grant.js';
import { networkCheck } from './network.js';
import { roleCheck } from './role.js';
import { routeCheck } from './route.js';
import { type SessionCheckDeps, sessionCheck } from './session.js';
import { tokenCheck } from './token.js';
import { websocketCheck } from './websocket.js';

/** An attempt that came as an HTTP request or WebSocket upgrade: where HTTP carries route and token. */
export interface HttpAccess extends AccessContext {
  /** The Host header, for `match.host` routes. */
  readonly host: string | undefined;
  readonly authorization: string | undefined;
  readonly cookies: string | undefined;
  /** Where the token was found, so that only that copy is removed before the upstream sees the request. */
  tokenFrom: 'bearer' | 'cookie' | undefined;
  /** The session signed in on this host (set by the session check, with sign-in on). */
  session: Session | undefined;
  /** The refusal would be lifted by signing in (no session, or an ended one): a browser is sent to sign in. */
  signInNeeded: boolean;
}

/**
 * What the HTTP adapter and the gate read of a request: a real one (the proxy path, an upgrade) or
 * one an ingress describes (forward-auth). The gate rewrites `headers` and `url` for the upstream.
 */
export interface GateRequest {
  method?: string | undefined;
  url?: string | undefined;
  headers: IncomingHttpHeaders;
  socket: { remoteAddress?: string | undefined };
}

/**
 * The HTTP adapter: the context the checks read, built from a request whose target has already
 * passed requestTargetProblem. Every field is set here, so that every context has one shape.
 */
export function httpAccess(req: GateRequest, websocket: boolean, resolveClient: ClientResolver): HttpAccess {
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
    session: undefined,
    signInNeeded: false,
    resource: undefined,
    upstreamPath: undefined,
    user: undefined,
    email: undefined,
    grantId: undefined,
    roleName: undefined,
    tokenUse: undefined,
    expiresAt: undefined,
    role: undefined,
  };
}

export interface HttpCheckDeps {
  policy: () => Policy;
  verifier: AccessTokenVerifier;
  store: GrantReader;
  clock: Clock;
  /** With sign-in on: how a session cookie is opened (crypto only) and the person's grants read. */
  signIn?: Omit<SessionCheckDeps, 'clock'> | undefined;
}

/**
 * The decision for an HTTP request or upgrade, in the order of DESIGN.md: route, token (found, then
 * verified) — with sign-in on, token else session —, grant, role (an upgrade: its websocket too), network. The first refusal wins,
 * so this order is the order in which refusals are reported. One Redis round trip either way: the
 * grant check's for a token, the session check's for a signed-in person (the grant check then has
 * nothing left to read).
 *
 * @example const checks = httpChecks({ policy, verifier, store, clock }); const refused = await runChecks(checks, ctx);
 */
export function httpChecks(deps: HttpCheckDeps): Check<HttpAccess>[] {
  const token = tokenCheck(deps.verifier);
  const session = deps.signIn ? sessionCheck({ ...deps.signIn, clock: deps.clock }) : undefined;
  return [
    routeCheck(deps.policy),
    credentialCheck,
    session ? tokenElseSession(token, session) : token,
    grantCheck({ store: deps.store, clock: deps.clock }),
    roleCheck,
    websocketCheck,
    networkCheck,
  ];
}

/**
 * With sign-in on, the identity: a bearer token as always (command-line use); no token, the
 * session; a token from a cookie, the token and then the session of the person it was issued to
 * (so that a copied cookie, with another person's session or none, gets nothing). A token minted
 * for a browser's cookie is refused as a bearer token: else a copied cookie would simply be replayed
 * in an Authorization header, away from the holder's session.
 */
export function tokenElseSession(token: Check<HttpAccess>, session: Check<HttpAccess>): Check<HttpAccess> {
  return function tokenOrSession(ctx) {
    if (ctx.token === undefined) return session(ctx);
    if (ctx.tokenFrom === 'bearer') return bearer(ctx, token);
    const verified = token(ctx);
    if (verified instanceof Promise) return verified.then((refused) => refused ?? session(ctx));
    return verified ?? session(ctx);
  };
}

async function bearer(ctx: HttpAccess, token: Check<HttpAccess>) {
  const refused = await token(ctx);
  // The token check noted the verified claims' `use`: no second look at the token.
  if (refused !== undefined || ctx.tokenUse !== 'cookie') return refused;
  return refuse(
    ctx,
    'token_invalid',
    'This token was issued for a browser cookie: it counts only in the browser of the person it was issued to, signed in.',
  );
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h.join(', ') : h;
}
