import type { Logger } from '../shared/log.js';
import type { Resource } from '../shared/policy/index.js';
import type { createAssertionSigner } from '../shared/tokens/index.js';
import type { ClientResolver } from './checks/client-address.js';
import { type Authorized, type Check, isAuthorized, outOfOrder } from './checks/context.js';
import { type GateRequest, type HttpAccess, httpAccess } from './checks/http.js';
import { pathOnly } from './checks/path.js';
import { runChecks } from './checks/run.js';
import type { Metrics } from './metrics.js';
import { rewriteUpstreamHeaders } from './proxy/headers.js';
import type { PublicAddress } from './proxy/public-address.js';
import type { RefusalRecorder } from './refusal-records.js';
import { type Refusal, refusal } from './refusals.js';
import type { UsageRecorder } from './usage.js';

export interface GateDeps {
  /** The decision, in order (httpChecks, or a list with a sign-in check in it). */
  checks: readonly Check<HttpAccess>[];
  resolveClient: ClientResolver;
  /** Where people reach each resource (publicAddresses(JITGATE_PUBLIC_URL)). */
  publicAddress: (resource: Resource) => PublicAddress;
  assertions: ReturnType<typeof createAssertionSigner>;
  metrics: Metrics;
  usage: UsageRecorder;
  /** Counts every refusal; audits those that name a real grant (bounded per grant). */
  refusals: RefusalRecorder;
  log: Logger;
}

/** What the access log says about a request. Never a token, cookie or code. */
export interface Decision {
  resource?: string | undefined;
  decision: 'allow' | 'deny';
  reason: string;
  user?: string | undefined;
  grantId?: string | undefined;
  client?: string | undefined;
}

export type GateResult =
  | {
      ok: true;
      resource: Resource;
      grantId: string;
      expiresAt: number;
      decision: Decision;
      /** The session the request came with (sign-in on): its sockets end with it, at logout too. */
      session?: { sid: string; endsAt: number } | undefined;
    }
  | {
      ok: false;
      refusal: Refusal;
      decision: Decision;
      /** Signing in would lift the refusal (sign-in on, no session or an ended one). */
      signInNeeded: boolean;
      /** The session signed in on this host, when there is one (for the refusal page). */
      session: HttpAccess['session'];
    };

/**
 * One access decision, recorded: run the checks, then count the decision, record a refusal (counted
 * per minute; audited only when it names a real grant; never awaited), note the grant's use, and on success rewrite the request for its upstream (headers and
 * path). HTTP requests and WebSocket upgrades both pass through here.
 */
export function createGate(deps: GateDeps) {
  return async function pass(req: GateRequest, websocket: boolean): Promise<GateResult> {
    const ctx = httpAccess(req, websocket, deps.resolveClient);
    const refused = await runChecks(deps.checks, ctx);
    if (refused === undefined && isAuthorized(ctx)) return allow(deps, req, ctx);
    // Every check passed but one that the decision needs was not in the list: refuse, never allow.
    return deny(deps, ctx, refused ?? outOfOrder(ctx, 'final', 'route, token and grant'));
  };
}

function deny(deps: GateDeps, ctx: HttpAccess, refused: Refusal): GateResult {
  const decision = describe(ctx, refused);
  count(deps, decision);
  deps.refusals.refused({
    resource: ctx.resource?.name,
    reason: refused.code,
    // Set only once a token was verified (or a session's grant picked): never from an unchecked claim.
    grantId: ctx.grantId,
    event: () => deniedEvent(ctx, refused),
  });
  return { ok: false, refusal: refused, decision, signInNeeded: ctx.signInNeeded, session: ctx.session };
}

async function allow(deps: GateDeps, req: GateRequest, ctx: Authorized<HttpAccess>): Promise<GateResult> {
  const decision = describe(ctx, undefined);
  count(deps, decision);
  const { resource } = ctx;
  let assertion: string;
  try {
    assertion = await deps.assertions.get({
      grantId: ctx.grantId,
      user: ctx.user,
      email: ctx.email,
      resource: resource.name,
      role: ctx.roleName,
    });
  } catch (err) {
    deps.log.error({ err }, 'could not sign the upstream assertion');
    return {
      ok: false,
      refusal: refusal('unavailable', { resource }),
      decision,
      signInNeeded: false,
      session: ctx.session,
    };
  }
  deps.usage.used(ctx.grantId, ctx.expiresAt, ctx.client.client?.toString());
  rewriteUpstreamHeaders(req.headers, {
    identity: { user: ctx.user, email: ctx.email, grantId: ctx.grantId, role: ctx.roleName, assertion },
    // No token of the request's own (an identity from elsewhere): only our cookies are removed.
    tokenFrom: ctx.tokenFrom ?? 'cookie',
    client: ctx.client,
    address: deps.publicAddress(resource),
    websocket: ctx.websocket,
  });
  req.url = ctx.upstreamPath;
  const session = ctx.session ? { sid: ctx.session.sid, endsAt: ctx.session.exp * 1000 } : undefined;
  return { ok: true, resource, grantId: ctx.grantId, expiresAt: ctx.expiresAt, decision, session };
}

export type Gate = ReturnType<typeof createGate>;

function count(deps: GateDeps, decision: Decision): void {
  deps.metrics.decisions.inc({
    resource: decision.resource ?? '',
    decision: decision.decision,
    reason: decision.reason,
  });
}

function describe(ctx: HttpAccess, refused: Refusal | undefined): Decision {
  return {
    resource: ctx.resource?.name,
    decision: refused ? 'deny' : 'allow',
    reason: refused ? refused.code : 'ok',
    user: ctx.user,
    grantId: ctx.grantId,
    client: ctx.client.client?.toString(),
  };
}

/** `access.denied` about a real grant (its strings bounded when it is stored). */
function deniedEvent(ctx: HttpAccess, refused: Refusal): Record<string, unknown> & { type: string } {
  return {
    type: 'access.denied',
    actor: ctx.user ?? 'anonymous',
    subject: ctx.user,
    resource: ctx.resource?.name,
    role: ctx.roleName,
    grantId: ctx.grantId,
    reason: refused.code,
    method: ctx.method,
    path: ctx.upstreamPath ? pathOnly(ctx.upstreamPath) : undefined,
    client: ctx.client.client?.toString(),
  };
}
