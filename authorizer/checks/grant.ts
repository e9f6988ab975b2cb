import type { Clock } from '../../shared/clock.js';
import type { LiveGrant } from '../../shared/grants/records.js';
import { type AccessContext, type Check, type CheckResult, outOfOrder, refuse } from './context.js';

/** The one read the grant check makes: the store's hot-path lookup (one HMGET). */
export interface GrantReader {
  liveGrant(grantId: string): Promise<LiveGrant | undefined>;
}

/**
 * Grant: the grant the identity names must be active in Redis, not past its expiry, and be exactly
 * the grant of that user, resource, role and e-mail (every claim the upstream is told must be the
 * grant's: X-JIT-Email comes from the token, and upstreams log people in by it). This is the one
 * Redis round trip per attempt and it is never cached, so a revoked grant is refused on the very
 * next request. Fails closed: no Redis, no access. Synchronous when an identity check has already
 * confirmed the live grant (a session's, which reads the person's grants in its own round trip).
 */
export function grantCheck(deps: { store: GrantReader; clock: Clock }): Check {
  return function grant(ctx) {
    // A session's check read the person's live grants itself (one round trip): nothing left to read.
    if (ctx.expiresAt !== undefined) return undefined;
    return confirm(deps, ctx);
  };
}

async function confirm(deps: { store: GrantReader; clock: Clock }, ctx: AccessContext): Promise<CheckResult> {
  const { resource, grantId } = ctx;
  if (resource === undefined) return outOfOrder(ctx, 'grant', 'route');
  if (grantId === undefined) return outOfOrder(ctx, 'grant', 'token');
  let live: LiveGrant | undefined;
  try {
    live = await deps.store.liveGrant(grantId);
  } catch {
    return refuse(ctx, 'unavailable');
  }
  // The live key expires with the grant, so a missing key is an expired grant.
  if (!live) return refuse(ctx, 'grant_expired');
  if (live.status === 'revoked') return refuse(ctx, 'grant_revoked');
  if (live.expiresAt <= deps.clock.now()) return refuse(ctx, 'grant_expired');
  if (
    live.user !== ctx.user ||
    live.resource !== resource.name ||
    live.role !== ctx.roleName ||
    live.email !== ctx.email
  ) {
    return refuse(ctx, 'token_invalid', 'The access token does not match its grant.');
  }
  ctx.expiresAt = live.expiresAt;
  return undefined;
}

/** An active grant that has not run out yet (the rule lives in shared/, beside the grant records). */
export { isLive } from '../../shared/grants/live.js';
