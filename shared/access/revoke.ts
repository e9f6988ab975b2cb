import { errorFor } from '../errors.js';
import type { GrantId, SlackUserId } from '../ids.js';
import { checkNote, isAdmin, isApprover } from '../policy/index.js';
import type { AccessDeps } from './deps.js';
import type { Outcome } from './effects.js';
import { refreshHomes } from './follow-up.js';
import { loadRequestOfGrant } from './load.js';

/**
 * Ends a grant now (from `/access revoke` or the Revoke button alike). The holder, an approver of
 * its resource or an admin may. Revoking twice changes nothing the second time (`already-revoked`).
 *
 * @example const { change } = await revokeGrant(deps, grantId, actor, 'done'); // 'revoked'
 */
export async function revokeGrant(
  deps: Pick<AccessDeps, 'store' | 'policy' | 'usergroups'>,
  grantId: GrantId,
  actor: SlackUserId,
  reason = '',
): Promise<Outcome> {
  const { store, policy, usergroups } = deps;
  const granted = await loadRequestOfGrant(deps, grantId);
  const resource = policy().resources.get(granted.resource);
  const allowed =
    granted.requester === actor ||
    (resource !== undefined && (await isApprover(resource, actor, usergroups))) ||
    (await isAdmin(policy(), actor, usergroups));
  if (!allowed) {
    throw errorFor('not_allowed_to_revoke', { grantId });
  }
  const { outcome, request } = await store.transitions.revoke(grantId, actor, checkNote(reason));
  if (outcome === 'already_revoked') {
    return { request, resource, change: 'already-revoked', effects: [] };
  }
  return {
    request,
    resource,
    change: 'revoked',
    effects: [
      { type: 'update-approval-message', requestId: request.id },
      { type: 'tell-grant-ended', requestId: request.id, to: request.requester },
      refreshHomes(request.requester, actor),
    ],
  };
}
