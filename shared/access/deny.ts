import type { RequestId, SlackUserId } from '../ids.js';
import { checkNote } from '../policy/index.js';
import type { AccessDeps } from './deps.js';
import type { Outcome } from './effects.js';
import { refreshHomes } from './follow-up.js';
import { loadDecidable } from './load.js';

/**
 * An approver says no (with an optional reason). The request's timeout and nudge go; the requester
 * is told.
 *
 * @example await denyRequest(deps, requestId, approver, 'use the read replica'); // change: 'denied'
 */
export async function denyRequest(
  deps: AccessDeps,
  requestId: RequestId,
  approver: SlackUserId,
  reason = '',
): Promise<Outcome> {
  const { resource } = await loadDecidable(deps, requestId, approver);
  const request = await deps.store.transitions.deny(requestId, approver, checkNote(reason));
  await deps.scheduler.requestDecided(requestId);
  return {
    request,
    resource,
    change: 'denied',
    effects: [
      { type: 'update-approval-message', requestId },
      { type: 'tell-denied', requestId, to: request.requester },
      refreshHomes(request.requester, approver),
    ],
  };
}
