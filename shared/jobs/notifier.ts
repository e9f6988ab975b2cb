import type { Effect } from '../access/effects.js';
import type { AccessRequest } from '../grants/records.js';
import type { FileAsk } from './definitions.js';

/**
 * What the worker tells people. The bot implements it with Slack; tests use a recording one.
 * Each method is one effect, so that a retried job repeats only the effect that failed.
 * Throw `PermanentFailure` for failures that retrying cannot fix (the channel is gone).
 */
export interface Notifier {
  /** Bring the request's approval message up to date with its current state (`chat.update`). */
  refreshApprovalMessage(request: AccessRequest): Promise<void>;
  /** Tell the requester their request timed out undecided. */
  requestExpired(request: AccessRequest): Promise<void>;
  /** Remind the approvers of a request still waiting for them. */
  nudgeApprovers(request: AccessRequest): Promise<void>;
  /**
   * Give an escalated request (still undecided at its escalateAfter) to its escalateTo people, with
   * its buttons. The approval message is refreshed separately.
   */
  escalated(request: AccessRequest): Promise<void>;
  /** Remind the approvers of a break-glass grant that nobody has reviewed it yet (Justified / Flag). */
  reviewReminder(request: AccessRequest): Promise<void>;
  /** Tell the holder their grant ends soon. */
  grantExpiringSoon(request: AccessRequest): Promise<void>;
  /** Tell the holder their grant has ended (`grantStatus` says whether it expired or was revoked). */
  grantEnded(request: AccessRequest): Promise<void>;
  /**
   * Tell the holder that someone else (`openedBy`, from `client`) opened their redeem link: it was
   * refused and nothing was used.
   */
  redeemRefused(request: AccessRequest, attempt: RedeemAttempt): Promise<void>;
  /** Carry out one effect of a use case (`request`: the request it names, as it now stands). */
  carryOut(effect: Effect, request: AccessRequest): Promise<void>;
}

/** Who opened someone else's redeem link: bounded labels, as the authorizer saw them. */
export interface RedeemAttempt {
  openedBy: string;
  client?: string | undefined;
}

export class PermanentFailure extends Error {
  override readonly name = 'PermanentFailure';
}

/**
 * Counts an approval confirmed in the browser with a fresh sign-in (the bot implements it: the
 * policy's user groups need Slack). Answers what it did; throws to have the job retried.
 */
export interface ConfirmedApprovals {
  approve(requestId: string, approver: string): Promise<'approved' | 'refused'>;
}

/**
 * Files a request asked for on a page (the bot implements it: it needs Slack to find the person and
 * their user groups). Answers what it did; throws to have the job retried.
 */
export interface AskFiler {
  file(ask: FileAsk): Promise<'filed' | 'joined' | 'refused' | 'already-filed'>;
}
