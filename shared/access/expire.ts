import type { GrantId, RequestId } from '../ids.js';
import type { AccessDeps } from './deps.js';
import type { Effect, Outcome } from './effects.js';

/**
 * The lifecycle's two timeouts, run by the worker's jobs. Each is safe to run late, twice or after
 * the state moved on: the store's script decides, and the effects say what the people involved must
 * still hear (again on a retried job: the worker queues each effect under an id of its own, once).
 * The worker holds no policy, so these answer no resource.
 */

/** What a timeout changed and what must follow. */
export type Expiry = Pick<Outcome, 'request' | 'change' | 'effects'>;

/**
 * An undecided request past its `pendingTimeout` expires; the requester is told and the message
 * updated. A request decided meanwhile is left as it is.
 *
 * @example const { change, effects } = await timeOutRequest(deps, requestId); // 'expired' | 'unchanged'
 */
export async function timeOutRequest(deps: Pick<AccessDeps, 'store'>, requestId: RequestId): Promise<Expiry> {
  const { expired, request } = await deps.store.transitions.expireRequest(requestId);
  // Expired now, or by an earlier attempt of the same job: either way the people must hear of it.
  const effects: Effect[] =
    request.status === 'expired'
      ? [
          { type: 'tell-request-expired', requestId, to: request.requester },
          { type: 'update-approval-message', requestId },
        ]
      : [];
  return { request, change: expired ? 'expired' : 'unchanged', effects };
}

/** The grant-end job's due time: the grant and the expiry it was scheduled for. */
export interface GrantDue {
  requestId: RequestId;
  grantId: GrantId;
  expiresAt: number;
}

/**
 * What ending a grant decided: ended (`change: 'expired'`, or `unchanged` when it had ended before),
 * or not yet: `extendedTo` (extended since the job was scheduled; the new end is scheduled) or
 * `dueAt` (a few ms early: run again then).
 */
export type GrantEnd = Expiry & { extendedTo?: number; dueAt?: number };

/**
 * A grant at its expiry ends: its live key goes, every authorizer is told, the holder hears of it
 * and the message shows it. An extended grant gets its new end scheduled instead.
 *
 * @example const end = await endGrant(deps, { requestId, grantId, expiresAt }); // end.change === 'expired'
 */
export async function endGrant(
  deps: Pick<AccessDeps, 'store' | 'scheduler'> & { reminderBeforeMs: (resource: string) => number },
  due: GrantDue,
): Promise<GrantEnd> {
  const ended = await deps.store.transitions.expireGrant(due.requestId, due.grantId);
  const { request } = ended;
  if (ended.outcome === 'not_yet' && ended.expiresAt !== undefined) {
    if (ended.expiresAt <= due.expiresAt) {
      return { request, change: 'unchanged', effects: [], dueAt: ended.expiresAt };
    }
    // Extended since this job was scheduled: the new expiry has (or now gets) its own job.
    const reminder = deps.reminderBeforeMs(request.resource);
    await deps.scheduler.grantScheduled(request.id, due.grantId, ended.expiresAt, reminder);
    return { request, change: 'unchanged', effects: [], extendedTo: ended.expiresAt };
  }
  const effects: Effect[] =
    request.grantStatus === 'expired'
      ? [
          { type: 'tell-grant-ended', requestId: request.id, to: request.requester },
          { type: 'update-approval-message', requestId: request.id },
        ]
      : [];
  return { request, change: ended.outcome === 'expired' ? 'expired' : 'unchanged', effects };
}
