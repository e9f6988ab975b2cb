import { createHash } from 'node:crypto';
import { z } from 'zod';
import { EffectSchema } from '../access/effects.js';
import { Asker } from '../asks/ask.js';

/** The longest label a job carries about a person or an address (longer ones are cut by the caller). */
export const MAX_LABEL = 200;

/**
 * The jobs and their deterministic ids: scheduling the same thing twice (a retried Slack delivery, two
 * bots) yields one job. BullMQ forbids `:` in custom ids, hence the dashes.
 */
export const JobData = z.discriminatedUnion('kind', [
  /**
   * End a grant at its expiry (the third of its three ends, the one that tells people). With
   * `remind`, it first runs `reminderBefore` the expiry: it queues the holder's reminder, then waits
   * in the queue for the expiry itself (one job per grant instead of two).
   */
  z.object({
    kind: z.literal('grant-expire'),
    requestId: z.string(),
    grantId: z.string(),
    expiresAt: z.number(),
    remind: z.boolean().optional(),
  }),
  /** Remind the holder `reminderBefore` its expiry (queued by earlier versions; now part of `grant-expire`). */
  z.object({
    kind: z.literal('grant-remind'),
    requestId: z.string(),
    grantId: z.string(),
    expiresAt: z.number(),
  }),
  /** Expire an undecided request at `pendingTimeout`. */
  z.object({ kind: z.literal('request-timeout'), requestId: z.string() }),
  /** Nudge the approvers of an undecided request at `nudgeAfter`. */
  z.object({ kind: z.literal('request-nudge'), requestId: z.string() }),
  /**
   * Remind the approvers of a break-glass grant nobody has reviewed yet; each round schedules the
   * next, `everyMs` later, until it is reviewed or the rounds run out.
   */
  z.object({
    kind: z.literal('review-remind'),
    requestId: z.string(),
    round: z.number().int().min(1),
    everyMs: z.number().int().positive(),
  }),
  /**
   * An approval confirmed in the browser with a fresh sign-in (approverStepUp), checked by the
   * authorizer (which has no Slack): the bot's side approves it through the same use case as the
   * Approve button, with the policy's user groups, and carries out its effects.
   */
  z.object({ kind: z.literal('approve-confirmed'), requestId: z.string(), approver: z.string() }),
  /** Escalate an undecided request at its resource's `escalateAfter`. */
  z.object({ kind: z.literal('request-escalate'), requestId: z.string() }),
  /** One Slack effect, retried on its own: a message update or a DM. */
  z.object({
    kind: z.literal('notify'),
    requestId: z.string(),
    effect: z.enum(['refresh-message', 'request-expired', 'grant-ended', 'expiring-soon']),
    /** Part of the id only: one refresh per state of the request. */
    state: z.string().optional(),
  }),
  /**
   * Tell a grant's holder that someone else, signed in at the authorizer, opened their redeem link
   * (refused, nothing consumed). Queued by the authorizer, which has no Slack token. Who opened it
   * and from where are short, bounded labels (never a token or a code).
   */
  z.object({
    kind: z.literal('redeem-refused'),
    requestId: z.string(),
    grantId: z.string(),
    /** How the person who opened it signed in (an e-mail or a Slack user id). */
    openedBy: z.string().min(1).max(MAX_LABEL),
    /** Their client address, as the authorizer saw it. */
    client: z.string().max(MAX_LABEL).optional(),
  }),
  /**
   * A use case's effects, carried out in order by the bot's side (a caller with no Slack, such as
   * the authorizer, delivers them this way). `done` counts those already carried out, so a retry
   * resumes with the one that failed.
   */
  z.object({
    kind: z.literal('effects'),
    requestId: z.string(),
    effects: z.array(EffectSchema),
    done: z.number().int().min(0).default(0),
    /** Part of the id only: one delivery per state of the request. */
    state: z.string(),
  }),
  /**
   * A request asked for on a resource's page by a signed-in person, checked by the authorizer (which
   * has no Slack): the bot's side finds the person in Slack and files it under `requestId` through
   * the same use case as `/access`, then tells the approvers and the person.
   */
  z.object({
    kind: z.literal('file-ask'),
    requestId: z.string(),
    asker: Asker,
    resource: z.string(),
    role: z.string(),
    durationMs: z.number().int().positive(),
    reason: z.string(),
  }),
]);
export type JobData = z.infer<typeof JobData>;

export function jobIdOf(data: JobData): string {
  switch (data.kind) {
    case 'grant-expire':
    case 'grant-remind':
      return `${data.kind}-${data.grantId}-${data.expiresAt}`;
    case 'request-timeout':
    case 'request-nudge':
    case 'request-escalate':
      return `${data.kind}-${data.requestId}`;
    case 'notify':
      return `notify-${data.effect}-${data.requestId}${data.state ? `-${data.state.replace(/[^A-Za-z0-9_.-]/g, '_')}` : ''}`;
    case 'file-ask':
      return `file-ask-${data.requestId}`;
    case 'approve-confirmed':
      return `approve-confirmed-${data.requestId}-${data.approver}`;
    case 'review-remind':
      return `review-remind-${data.requestId}-${data.round}`;
    case 'effects':
      return `effects-${data.requestId}-${data.state.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    case 'redeem-refused':
      // One DM per grant and person who opened its link: reopening it does not flood the holder.
      return `redeem-refused-${data.grantId}-${createHash('sha256').update(data.openedBy).digest('hex').slice(0, 16)}`;
  }
}

export const QUEUE_NAME = 'jitgate';

/**
 * The jobs whose running twice would be seen (a DM, a message, a request filed): a late duplicate,
 * scheduled again after the first one completed and was removed, is recognised for a day by a
 * BullMQ deduplication key (a short string with a TTL) instead of by keeping the completed job.
 * The others re-read the state they act on and find nothing left to do: a grant's end, a request's
 * timeout and escalation (each a transition that happens once), its nudge (each approver is nudged
 * once per request: bot/slack/nudge-budget.ts).
 */
export const DEDUPLICATED: ReadonlySet<JobData['kind']> = new Set([
  'notify',
  'effects',
  'file-ask',
  'redeem-refused',
  'review-remind',
]);

/** How long a late duplicate of a `DEDUPLICATED` job is recognised. */
export const DEDUPLICATE_FOR_MS = 86_400_000;

export type FileAsk = Extract<JobData, { kind: 'file-ask' }>;
