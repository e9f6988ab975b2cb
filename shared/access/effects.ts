import type { AccessRequest } from '../grants/records.js';
import type { RequestId, SlackUserId } from '../ids.js';
import type { Resource } from '../policy/types.js';

/**
 * What must follow a change, described without Slack: the bot renders and carries out each one
 * (bot/effects/), the worker queues those it owes. Effects name requests by id and hold no secret
 * but the redeem link a DM hands over, so they can be logged (minus that link) or queued as data.
 * The order is the order to carry them out in; `refresh-homes` always comes last.
 */
export type Effect =
  /** Post the request's approval message (an extension: in the thread of its grant's message). If it
   *  cannot be posted and the request still waits (`nudgeIfUnposted`), ask the approvers directly. */
  | { type: 'post-approval-message'; requestId: RequestId; nudgeIfUnposted: boolean }
  /** Bring an approval message up to date with its request's state (this request's, or for an
   *  approved extension, the original request's whose expiry moved). */
  | { type: 'update-approval-message'; requestId: RequestId }
  /** Tell the approval channel, loudly, that someone broke glass (to be reviewed after). */
  | { type: 'announce-break-glass'; requestId: RequestId; channel: string }
  /** DM the one-time redeem link of a new or extended grant to its holder. */
  | { type: 'send-redeem-link'; requestId: RequestId; to: SlackUserId; redeemUrl: string }
  /** DM the requester that an approver said no. */
  | { type: 'tell-denied'; requestId: RequestId; to: SlackUserId }
  /** DM the requester that their request timed out undecided. */
  | { type: 'tell-request-expired'; requestId: RequestId; to: SlackUserId }
  /** DM the holder that the grant has ended (expired or revoked: the request says which). */
  | { type: 'tell-grant-ended'; requestId: RequestId; to: SlackUserId }
  /** DM the holder that the grant ends soon. */
  | { type: 'remind-expiring'; requestId: RequestId; to: SlackUserId }
  /** DM the approvers who have not approved yet the request with its buttons. */
  | { type: 'nudge-approvers'; requestId: RequestId }
  /** Re-publish these people's App Homes (best effort). */
  | { type: 'refresh-homes'; users: SlackUserId[] };

export type EffectType = Effect['type'];

/**
 * What a use case changed, for the reply to the person who acted:
 * `filed` (waits for approvers), `granted` (at once: auto-approval, break-glass, or an auto-approved
 * extension), `approved` (an approval counted; `request.status` says whether it reached the
 * threshold), `already-approved` (this approver had approved before: nothing changed), `denied`,
 * `cancelled`, `revoked`, `already-revoked` (nothing changed), `expired` (a request or a grant timed
 * out), `unchanged` (a late or superseded job: nothing to do).
 */
export type Change =
  | 'filed'
  | 'granted'
  | 'approved'
  | 'already-approved'
  | 'denied'
  | 'cancelled'
  | 'revoked'
  | 'already-revoked'
  | 'expired'
  | 'unchanged';

/**
 * A use case's result: the request as it now stands, its resource in the current policy (undefined
 * when the policy no longer has it), what changed, and what must follow.
 *
 * @example
 *   const outcome = await approveRequest(deps, requestId, approver);
 *   // { request: { status: 'approved', … }, change: 'approved',
 *   //   effects: [{ type: 'send-redeem-link', … }, { type: 'update-approval-message', … }, { type: 'refresh-homes', … }] }
 */
export interface Outcome {
  request: AccessRequest;
  resource: Resource | undefined;
  change: Change;
  effects: Effect[];
  /** When access was granted: the one-time link (the same one the `send-redeem-link` effect hands over). */
  redeemUrl?: string | undefined;
}

/** The effects of a list of a given type (for tests and for callers that carry out only some). */
export function effectsOf<T extends EffectType>(
  effects: readonly Effect[],
  type: T,
): Extract<Effect, { type: T }>[] {
  return effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
}
