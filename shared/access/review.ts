import { errorFor } from '../errors.js';
import type { AccessRequest } from '../grants/records.js';
import type { GrantId, SlackUserId } from '../ids.js';
import { checkNote, isAdmin, isApprover } from '../policy/index.js';
import type { AccessDeps } from './deps.js';
import type { Outcome } from './effects.js';
import { refreshHomes } from './follow-up.js';
import { loadRequestOfGrant } from './load.js';

export type Verdict = 'justified' | 'flagged';

/**
 * Whether `user` may review a break-glass grant: an approver of its resource or an admin, never
 * the person who broke glass.
 */
export async function mayReview(
  deps: Pick<AccessDeps, 'policy' | 'usergroups'>,
  request: AccessRequest,
  user: SlackUserId,
): Promise<boolean> {
  if (user === request.requester) return false;
  const resource = deps.policy().resources.get(request.resource);
  if (resource && (await isApprover(resource, user, deps.usergroups))) return true;
  return isAdmin(deps.policy(), user, deps.usergroups);
}

/**
 * A break-glass grant is reviewed after the fact: an approver of its resource (or an admin) says it
 * was justified or flags it, with an optional note. The first review counts (`already-reviewed`
 * after, nothing changed); it is audited (`grant.reviewed`), its reminders stop, and its approval
 * message shows it.
 *
 * @example await reviewGrant(deps, grantId, reviewer, 'flagged', 'no incident on record');
 */
export async function reviewGrant(
  deps: AccessDeps,
  grantId: GrantId,
  reviewer: SlackUserId,
  verdict: Verdict,
  note = '',
): Promise<Outcome> {
  await reviewableGrant(deps, grantId, reviewer);
  const { outcome, request } = await deps.store.transitions.review(
    grantId,
    reviewer,
    verdict,
    checkNote(note),
  );
  const resource = deps.policy().resources.get(request.resource);
  if (outcome === 'already_reviewed') return { request, resource, change: 'already-reviewed', effects: [] };
  return {
    request,
    resource,
    change: 'reviewed',
    effects: [{ type: 'update-approval-message', requestId: request.id }, refreshHomes(reviewer)],
  };
}

/**
 * The break-glass grant `user` may review (not_break_glass or not_allowed_to_review otherwise), for
 * a check before asking for a note.
 */
export async function reviewableGrant(
  deps: Pick<AccessDeps, 'store' | 'policy' | 'usergroups'>,
  grantId: GrantId,
  user: SlackUserId,
): Promise<AccessRequest> {
  const request = await loadRequestOfGrant(deps, grantId);
  if (!request.breakGlass) throw errorFor('not_break_glass', { grantId });
  if (!(await mayReview(deps, request, user))) {
    throw errorFor('not_allowed_to_review', { grantId, resource: request.resource });
  }
  return request;
}

/** Break-glass grants nobody has reviewed yet that `user` may review, newest first (for App Home). */
export async function awaitingReview(
  deps: Pick<AccessDeps, 'store' | 'policy' | 'usergroups'>,
  user: SlackUserId,
): Promise<AccessRequest[]> {
  const mine: AccessRequest[] = [];
  for (const request of await deps.store.queries.unreviewedBreakGlass()) {
    if (await mayReview(deps, request, user)) mine.push(request);
  }
  return mine;
}
