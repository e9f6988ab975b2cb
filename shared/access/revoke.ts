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
 * On a Sentinel master a revocation no replica confirmed in time throws `not_replicated` (it is in
 * effect; its effects go to the worker), so that it is never reported safe when a failover could undo it.
 *
 * @example const { change } = await revokeGrant(deps, grantId, actor, 'done'); // 'revoked'
 */
export async function revokeGrant(
  deps: Pick<AccessDeps, 'store' | 'policy' | 'usergroups' | 'scheduler'>,
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
  const { outcome, request, replicated } = await store.transitions.revoke(grantId, actor, checkNote(reason));
  const result: Outcome =
    outcome === 'already_revoked'
      ? { request, resource, change: 'already-revoked', effects: [] }
      : {
          request,
          resource,
          change: 'revoked',
          effects: [
            { type: 'update-approval-message', requestId: request.id },
            { type: 'tell-grant-ended', requestId: request.id, to: request.requester },
            refreshHomes(request.requester, actor),
          ],
        };
  if (!replicated) {
    // In effect, but not yet on a replica: the person is told so, and asked to revoke again (which
    // answers already-revoked), so what must follow a revocation is handed to the worker now.
    if (result.effects.length > 0) await deps.scheduler.deliver(result);
    throw errorFor('not_replicated', {
      what: 'The revocation',
      timeoutMs: store.transitions.replicaAcks?.timeoutMs,
    });
  }
  return result;
}
