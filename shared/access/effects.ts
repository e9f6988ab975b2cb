import { z } from 'zod';
import type { AccessRequest } from '../grants/records.js';
import {
  type GrantId,
  GrantIdSchema,
  type RequestId,
  RequestIdSchema,
  type SlackUserId,
  SlackUserIdSchema,
} from '../ids.js';
import type { Resource } from '../policy/types.js';

/**
 * What must follow a change, described without Slack: the bot renders and carries out each one
 * (bot/effects/), or queued as data for the bot's worker to carry out (`JobScheduler.deliver`: how
 * a caller with no Slack, such as the authorizer, has the people involved told). Effects name
 * requests by id and hold no secret but the redeem link a DM hands over, which is left out when
 * queued (the link is then made when the DM is sent).
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
  /** DM a one-time redeem link to a new or extended grant's holder (`redeemUrl` absent: make one then). */
  | { type: 'send-redeem-link'; requestId: RequestId; to: SlackUserId; grantId: GrantId; redeemUrl?: string }
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
  /** DM the approvers of a break-glass grant (not its holder) that it needs a review, with Justified / Flag. */
  | { type: 'ask-review'; requestId: RequestId; reminder: boolean }
  /** DM an escalated request's escalateTo people (not the requester, nor who approved) with its buttons. */
  | { type: 'escalate-to'; requestId: RequestId }
  /** Re-publish these people's App Homes (best effort). */
  | { type: 'refresh-homes'; users: SlackUserId[] };

export type EffectType = Effect['type'];

const ofRequest = { requestId: RequestIdSchema };
const toPerson = { requestId: RequestIdSchema, to: SlackUserIdSchema };

/** An effect read back from outside (a queued job's data), checked like any other input. */
export const EffectSchema: z.ZodType<Effect> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('post-approval-message'), ...ofRequest, nudgeIfUnposted: z.boolean() }),
  z.object({ type: z.literal('update-approval-message'), ...ofRequest }),
  z.object({ type: z.literal('announce-break-glass'), ...ofRequest, channel: z.string().min(1) }),
  z.object({
    type: z.literal('send-redeem-link'),
    ...toPerson,
    grantId: GrantIdSchema,
    redeemUrl: z.string().optional(),
  }),
  z.object({ type: z.literal('tell-denied'), ...toPerson }),
  z.object({ type: z.literal('tell-request-expired'), ...toPerson }),
  z.object({ type: z.literal('tell-grant-ended'), ...toPerson }),
  z.object({ type: z.literal('remind-expiring'), ...toPerson }),
  z.object({ type: z.literal('nudge-approvers'), ...ofRequest }),
  z.object({ type: z.literal('escalate-to'), ...ofRequest }),
  z.object({ type: z.literal('ask-review'), ...ofRequest, reminder: z.boolean() }),
  z.object({ type: z.literal('refresh-homes'), users: z.array(SlackUserIdSchema) }),
]);

/**
 * What a use case changed, for the reply to the person who acted:
 * `filed` (waits for approvers), `granted` (at once: auto-approval, break-glass, or an auto-approved
 * extension), `approved` (an approval counted; `request.status` says whether it reached the
 * threshold), `already-approved` (this approver had approved before: nothing changed), `denied`,
 * `cancelled`, `revoked`, `already-revoked` (nothing changed), `reviewed`, `already-reviewed` (a
 * break-glass grant's review; nothing changed the second time), `expired` (a request or a grant timed
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
  | 'reviewed'
  | 'already-reviewed'
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
}

/** The effects of a list of a given type (for tests and for callers that carry out only some). */
export function effectsOf<T extends EffectType>(
  effects: readonly Effect[],
  type: T,
): Extract<Effect, { type: T }>[] {
  return effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);
}
