import type { IncomingMessage } from 'node:http';
import type { AccessStore } from '../shared/grants/store.js';
import type { Logger } from '../shared/log.js';
import type { Resource } from '../shared/policy/index.js';
import type { createAssertionSigner } from '../shared/tokens/index.js';
import type { Authorize, Verdict } from './checks/authorize.js';
import { pathOnly } from './checks/path.js';
import type { Metrics } from './metrics.js';
import { rewriteUpstreamHeaders } from './proxy/headers.js';
import { type Refusal, refusal } from './refusals.js';
import type { UsageRecorder } from './usage.js';

export interface GateDeps {
  authorize: Authorize;
  assertions: ReturnType<typeof createAssertionSigner>;
  store: Pick<AccessStore, 'appendAudit'>;
  metrics: Metrics;
  usage: UsageRecorder;
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
  | { ok: true; resource: Resource; grantId: string; expiresAt: number; decision: Decision }
  | { ok: false; refusal: Refusal; decision: Decision };

/**
 * One access decision, recorded: authorize, then count it, audit a refusal (fire and forget),
 * note the grant's use, and on success rewrite the request for its upstream (headers and path).
 * HTTP requests and WebSocket upgrades both pass through here.
 */
export function createGate(deps: GateDeps) {
  return async function pass(req: IncomingMessage, websocket: boolean): Promise<GateResult> {
    const verdict = await deps.authorize(req, websocket);
    const decision = describe(verdict);
    deps.metrics.decisions.inc({
      resource: decision.resource ?? '',
      decision: decision.decision,
      reason: decision.reason,
    });
    if (!verdict.ok) {
      if (verdict.resource || verdict.user) audit(deps, req, verdict);
      return { ok: false, refusal: verdict.refusal, decision };
    }
    const { claims, resource } = verdict;
    let assertion: string;
    try {
      assertion = await deps.assertions.get({
        grantId: claims.gid,
        user: claims.sub,
        email: claims.email,
        resource: resource.name,
        role: claims.role,
      });
    } catch (err) {
      deps.log.error({ err }, 'could not sign the upstream assertion');
      return { ok: false, refusal: refusal('unavailable', { resource }), decision };
    }
    deps.usage.used(claims.gid, verdict.expiresAt);
    rewriteUpstreamHeaders(req.headers, {
      identity: { user: claims.sub, email: claims.email, grantId: claims.gid, role: claims.role, assertion },
      tokenFrom: verdict.tokenFrom,
      client: verdict.client,
      encrypted: 'encrypted' in req.socket && req.socket.encrypted === true,
      websocket,
    });
    req.url = verdict.upstreamPath;
    return { ok: true, resource, grantId: claims.gid, expiresAt: verdict.expiresAt, decision };
  };
}

export type Gate = ReturnType<typeof createGate>;

function describe(v: Verdict): Decision {
  return {
    resource: v.resource?.name,
    decision: v.ok ? 'allow' : 'deny',
    reason: v.ok ? 'ok' : v.refusal.code,
    user: v.user,
    grantId: v.grantId,
    client: v.client.client?.toString(),
  };
}

/** `access.denied` in the audit chain. Never awaited: a slow or absent Redis must not hold the answer. */
function audit(deps: GateDeps, req: IncomingMessage, v: Verdict & { ok: false }): void {
  deps.store
    .appendAudit({
      type: 'access.denied',
      actor: v.user ?? 'anonymous',
      subject: v.user,
      resource: v.resource?.name,
      role: v.roleName,
      grantId: v.grantId,
      reason: v.refusal.code,
      method: req.method,
      path: v.upstreamPath ? pathOnly(v.upstreamPath) : undefined,
      client: v.client.client?.toString(),
    })
    .catch((err) => deps.log.warn({ err, reason: v.refusal.code }, 'could not audit access.denied'));
}
