import type { AccessRequest } from '../grants/records.js';
import { type Decision, grantIdOf, requestIdOf } from '../grants/store.js';
import type { GrantId, SlackUserId } from '../ids.js';
import type { Resource } from '../policy/types.js';
import type { AccessDeps } from './deps.js';
import type { Effect } from './effects.js';
import { loadRequest } from './load.js';

/** What follows a state change, shared by the use cases: the jobs to schedule and the effects to name. */

type Granted = Extract<Decision, { outcome: 'granted' }>;

/**
 * A grant was minted (or extended): the request's timeout and nudge go, the grant's end and reminder
 * are scheduled (on the original request for an extension: the grant is the original's), and a
 * one-time redeem link is made for the holder.
 */
export async function followGrant(
  deps: Pick<AccessDeps, 'store' | 'scheduler' | 'publicUrl'>,
  request: AccessRequest,
  resource: Resource,
  decision: Granted,
): Promise<{ effects: { link: Effect; extended: Effect[] } }> {
  await deps.scheduler.requestDecided(request.id);
  const grantId = decision.grantId ?? grantIdOf(request.id);
  const original = request.kind === 'extension' ? await loadRequest(deps, requestIdOf(grantId)) : request;
  await deps.scheduler.grantScheduled(original.id, grantId, decision.expiresAt, resource.reminderBeforeMs);
  const redeemUrl = await redeemLink(deps, grantId);
  return {
    effects: {
      link: { type: 'send-redeem-link', requestId: request.id, to: request.requester, grantId, redeemUrl },
      // The original request's message shows the grant's expiry, which the extension just moved.
      extended:
        original.id === request.id ? [] : [{ type: 'update-approval-message', requestId: original.id }],
    },
  };
}

/** A fresh one-time redeem link for a grant: `<publicUrl>/_jitgate/redeem?code=…` (single use, 10 minutes). */
export async function redeemLink(
  deps: Pick<AccessDeps, 'store' | 'publicUrl'>,
  grantId: GrantId,
): Promise<string> {
  const code = await deps.store.codes.createRedeemCode(grantId);
  return `${deps.publicUrl}/_jitgate/redeem?code=${code}`;
}

/** The last effect of every change: the App Homes of the people involved, each once. */
export function refreshHomes(...users: SlackUserId[]): Effect {
  return { type: 'refresh-homes', users: [...new Set(users)] };
}
