import { Queue } from 'bullmq';
import type { Outcome } from '../access/effects.js';
import type { Clock } from '../clock.js';
import { unavailable } from '../errors.js';
import type { AccessRequest } from '../grants/records.js';
import type { RedisClient } from '../redis/connect.js';
import {
  DEDUPLICATE_FOR_MS,
  DEDUPLICATED,
  type FileAsk,
  type JobData,
  jobIdOf,
  MAX_LABEL,
  QUEUE_NAME,
} from './definitions.js';

/** BullMQ's event stream (nothing here reads it; BullMQ trims it to about this many entries). */
const EVENTS_KEPT = 1_000;

/**
 * Schedules the lifecycle's delayed work. Every job has a deterministic id, so scheduling twice while
 * the first is waiting is harmless. A completed job is removed at once (it would otherwise keep
 * about 1 KB in Redis for a day); a late duplicate of one whose running twice would be seen is
 * recognised for a day by its deduplication key (`DEDUPLICATED`), and the others find nothing left
 * to do. Failed jobs are kept a week, for whoever looks into them. BullMQ's event stream, which
 * nothing here reads, is kept short.
 *
 * @example await scheduler.grantScheduled(request.id, grantId, expiresAt, resource.reminderBeforeMs);
 */
export class JobScheduler {
  readonly queue: Queue;

  constructor(
    connection: RedisClient,
    queuePrefix: string,
    private readonly clock: Clock,
    /** Queue connection errors (Redis away): reported here, not on the console. */
    onError: (err: Error) => void = () => {},
  ) {
    this.queue = new Queue(QUEUE_NAME, {
      connection,
      prefix: queuePrefix,
      defaultJobOptions: {
        attempts: 8,
        backoff: { type: 'exponential', delay: 1_000 },
        removeOnComplete: true,
        removeOnFail: { age: 7 * 86_400 },
      },
      streams: { events: { maxLen: EVENTS_KEPT } },
    });
    this.queue.on('error', onError);
  }

  /** After a request is filed: its timeout, its nudge and, when its resource escalates, its escalation. */
  async requestFiled(request: AccessRequest, nudgeAfterMs: number, escalateAfterMs?: number): Promise<void> {
    const jobs: [JobData, number][] = [
      [{ kind: 'request-timeout', requestId: request.id }, request.pendingUntil],
    ];
    const nudgeAt = request.createdAt + nudgeAfterMs;
    if (nudgeAt < request.pendingUntil)
      jobs.push([{ kind: 'request-nudge', requestId: request.id }, nudgeAt]);
    const escalateAt = escalateAfterMs === undefined ? undefined : request.createdAt + escalateAfterMs;
    if (escalateAt !== undefined && escalateAt < request.pendingUntil)
      jobs.push([{ kind: 'request-escalate', requestId: request.id }, escalateAt]);
    await this.addAll(jobs);
  }

  /**
   * After a request is decided (or cancelled): its timeout and nudge are no longer needed. Best effort:
   * left in place they would find the request decided and do nothing, but they take memory in Redis.
   */
  async requestDecided(requestId: string): Promise<void> {
    const ids = [
      jobIdOf({ kind: 'request-timeout', requestId }),
      jobIdOf({ kind: 'request-nudge', requestId }),
      jobIdOf({ kind: 'request-escalate', requestId }),
    ];
    await Promise.allSettled(ids.map((id) => this.queue.remove(id)));
  }

  /**
   * After a grant is issued or extended: one job for its end, which first runs at the reminder before
   * it (when that is still ahead) and then waits for the expiry.
   */
  async grantScheduled(
    requestId: string,
    grantId: string,
    expiresAt: number,
    reminderBeforeMs: number,
  ): Promise<void> {
    const remindAt = expiresAt - reminderBeforeMs;
    const remind = reminderBeforeMs > 0 && remindAt > this.clock.now();
    await this.addAll([
      [
        { kind: 'grant-expire', requestId, grantId, expiresAt, ...(remind ? { remind } : {}) },
        remind ? remindAt : expiresAt,
      ],
    ]);
  }

  /** Round `round` of the reminders to review a break-glass grant, at `at`, the next `everyMs` later. */
  async reviewReminder(requestId: string, at: number, everyMs: number, round = 1): Promise<void> {
    await this.addAll([[{ kind: 'review-remind', requestId, round, everyMs }, at]]);
  }

  /** A Slack effect to (re)try through the queue, e.g. after `chat.update` failed in the bot. */
  async notify(
    request: Pick<AccessRequest, 'id' | 'status' | 'grantStatus' | 'approvals' | 'expiresAt'>,
    effect: 'refresh-message' | 'request-expired' | 'grant-ended' | 'expiring-soon',
  ): Promise<void> {
    const state =
      effect === 'refresh-message'
        ? `${request.status}-${request.grantStatus ?? 'none'}-${request.approvals.length}`
        : // One reminder per expiry: an extended grant is reminded again before its new end.
          effect === 'expiring-soon'
          ? String(request.expiresAt ?? 0)
          : undefined;
    await this.addAll([[{ kind: 'notify', requestId: request.id, effect, ...(state ? { state } : {}) }, 0]]);
  }

  /**
   * A use case's effects, to be carried out by the bot's worker in order (each once, a failed one
   * retried). For callers with no Slack of their own. A redeem link is left out (no link waits in
   * Redis): the worker makes a fresh one when it sends the DM.
   *
   * @example await scheduler.deliver(await requestAccess(deps, input));
   */
  async deliver(outcome: Pick<Outcome, 'request' | 'effects'>): Promise<void> {
    const { request } = outcome;
    const effects = outcome.effects.map((e) =>
      e.type === 'send-redeem-link'
        ? { type: e.type, requestId: e.requestId, to: e.to, grantId: e.grantId }
        : e,
    );
    if (effects.length === 0) return;
    const state = `${request.status}-${request.grantStatus ?? 'none'}-${request.approvals.length}`;
    await this.addAll([[{ kind: 'effects', requestId: request.id, effects, done: 0, state }, 0]]);
  }

  /**
   * A request asked for on a page, for the bot's side to file (the asker's Slack user is found there).
   * Its id is the request's, so submitting it twice queues it once.
   *
   * @example await scheduler.askFiled({ requestId, asker, resource: 'grafana', role: 'viewer', durationMs, reason });
   */
  async askFiled(ask: Omit<FileAsk, 'kind'>): Promise<void> {
    await this.addAll([[{ kind: 'file-ask', ...ask }, 0]]);
  }

  /** An approval confirmed in the browser with a fresh sign-in, for the bot's side to count (once per request and approver). */
  async approvalConfirmed(requestId: string, approver: string): Promise<void> {
    await this.addAll([[{ kind: 'approve-confirmed', requestId, approver }, 0]]);
  }

  /**
   * Someone else opened a grant's redeem link (the authorizer refused it): its holder is told by DM
   * through the worker. Once per grant and person who opened it.
   *
   * @example await scheduler.redeemRefused({ requestId, grantId, openedBy: 'bob@acme.com', client: '10.0.0.7' });
   */
  async redeemRefused(attempt: Omit<Extract<JobData, { kind: 'redeem-refused' }>, 'kind'>): Promise<void> {
    await this.addAll([
      [
        {
          kind: 'redeem-refused',
          ...attempt,
          openedBy: attempt.openedBy.slice(0, MAX_LABEL),
          client: attempt.client?.slice(0, MAX_LABEL),
        },
        0,
      ],
    ]);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  private async addAll(jobs: [JobData, number][]): Promise<void> {
    const now = this.clock.now();
    try {
      await this.queue.addBulk(
        jobs.map(([data, at]) => {
          const jobId = jobIdOf(data);
          return {
            name: data.kind,
            data,
            opts: {
              jobId,
              delay: Math.max(0, at - now),
              ...(DEDUPLICATED.has(data.kind)
                ? { deduplication: { id: jobId, ttl: DEDUPLICATE_FOR_MS } }
                : {}),
              // Why a request asked for on a page was refused stays readable for an hour.
              ...(data.kind === 'file-ask' ? { removeOnComplete: { age: 3_600 } } : {}),
            },
          };
        }),
      );
    } catch (err) {
      throw unavailable(err);
    }
  }
}
