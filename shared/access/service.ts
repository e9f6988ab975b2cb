import type { AccessRequest } from '../grants/records.js';
import type { GrantId, RequestId, SlackUserId } from '../ids.js';
import { approveRequest } from './approve.js';
import { cancelRequest } from './cancel.js';
import { denyRequest } from './deny.js';
import type { AccessDeps } from './deps.js';
import type { Outcome } from './effects.js';
import { extendGrant } from './extend.js';
import { redeemLink } from './follow-up.js';
import { decidableRequest, loadRequest } from './load.js';
import { accessOf, awaitingDecision, type HomeContent, homesOf } from './queries.js';
import { type RequestInput, requestAccess } from './request.js';
import { awaitingReview, reviewableGrant, reviewGrant, type Verdict } from './review.js';
import { revokeGrant } from './revoke.js';

/**
 * The use cases bound to their dependencies, for callers that hold one object (the bot's listeners,
 * tests). Each method is one use-case function of this folder; read those for the story.
 *
 * @example const { request, effects } = await access.approve(requestId, approver);
 */
export class AccessService {
  constructor(private readonly deps: AccessDeps) {}

  /** requestAccess: files a request, or grants it at once (auto-approval, break-glass). */
  request(input: RequestInput): Promise<Outcome> {
    return requestAccess(this.deps, input);
  }

  /** extendGrant: asks for more time on an active grant; approved like a new request. */
  extend(grantId: GrantId, user: SlackUserId, durationMs: number, reason: string): Promise<Outcome> {
    return extendGrant(this.deps, { grantId, user, durationMs, reason });
  }

  /** approveRequest: one approver's approval; the one reaching the threshold mints the grant. */
  approve(requestId: RequestId, approver: SlackUserId, opts: { steppedUp?: boolean } = {}): Promise<Outcome> {
    return approveRequest(this.deps, requestId, approver, opts);
  }

  /** denyRequest */
  deny(requestId: RequestId, approver: SlackUserId, reason = ''): Promise<Outcome> {
    return denyRequest(this.deps, requestId, approver, reason);
  }

  /** cancelRequest: by the requester, while pending. */
  cancel(requestId: RequestId, user: SlackUserId): Promise<Outcome> {
    return cancelRequest(this.deps, requestId, user);
  }

  /** revokeGrant; `already` is true when it had been revoked before (nothing changed). */
  async revoke(grantId: GrantId, actor: SlackUserId, reason = ''): Promise<Outcome & { already: boolean }> {
    const outcome = await revokeGrant(this.deps, grantId, actor, reason);
    return { ...outcome, already: outcome.change === 'already-revoked' };
  }

  /** reviewGrant: an approver or admin says a break-glass grant was justified, or flags it. */
  review(grantId: GrantId, reviewer: SlackUserId, verdict: Verdict, note = ''): Promise<Outcome> {
    return reviewGrant(this.deps, grantId, reviewer, verdict, note);
  }

  /** reviewableGrant: the break-glass grant, if this person may review it. */
  reviewable(grantId: GrantId, user: SlackUserId): Promise<AccessRequest> {
    return reviewableGrant(this.deps, grantId, user);
  }

  /** Break-glass grants this person may review and nobody has yet. */
  awaitingReview(user: SlackUserId): Promise<AccessRequest[]> {
    return awaitingReview(this.deps, user);
  }

  /** A fresh one-time redeem link for the holder of a grant. */
  redeemLink(grantId: GrantId): Promise<string> {
    return redeemLink(this.deps, grantId);
  }

  /** The user's active grants and undecided requests. */
  list(user: SlackUserId): Promise<{ grants: AccessRequest[]; pending: AccessRequest[] }> {
    return accessOf(this.deps, user);
  }

  /** What the App Homes of these people show, read at once. */
  homes(users: readonly SlackUserId[]): Promise<Map<SlackUserId, HomeContent>> {
    return homesOf(this.deps, users);
  }

  /** Undecided requests this person may decide. */
  awaiting(approver: SlackUserId): Promise<AccessRequest[]> {
    return awaitingDecision(this.deps, approver);
  }

  /** decidableRequest: the request, if this approver may decide it now (approver, still pending). */
  decidable(requestId: RequestId, approver: SlackUserId): Promise<AccessRequest> {
    return decidableRequest(this.deps, requestId, approver);
  }

  /** A request by id (no_such_request when there is none). */
  load(requestId: RequestId | string): Promise<AccessRequest> {
    return loadRequest(this.deps, requestId);
  }
}

export type { AccessDeps } from './deps.js';
export type { Change, Effect, Outcome } from './effects.js';
export type { RequestInput } from './request.js';
