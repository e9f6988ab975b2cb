import { Queue } from 'bullmq';
import type { Outcome } from '../access/effects.js';
import type { Clock } from '../clock.js';
import { unavailable } from '../errors.js';
import type { AccessRequest } from '../grants/records.js';
import type { RedisClient } from '../redis/connect.js';
import { type FileAsk, type JobData, jobIdOf, MAX_LABEL, QUEUE_NAME } from './definitions.js';

/**
 * Schedules the lifecycle's delayed work. Every job has a deterministic id, so scheduling twice is
 * harmless, and finished jobs are kept a day so that a late duplicate is still recognised.
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
        removeOnComplete: { age: 86_400, count: 50_000 },
        removeOnFail: { age: 7 * 86_400 },
      },
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

  /** After a grant is issued or extended: its end and the reminder before it. */
  async grantScheduled(
    requestId: string,
    grantId: string,
    expiresAt: number,
    reminderBeforeMs: number,
  ): Promise<void> {
    const jobs: [JobData, number][] = [[{ kind: 'grant-expire', requestId, grantId, expiresAt }, expiresAt]];
    const remindAt = expiresAt - reminderBeforeMs;
    if (remindAt > this.clock.now())
      jobs.push([{ kind: 'grant-remind', requestId, grantId, expiresAt }, remindAt]);
    await this.addAll(jobs);
  }

  /** Round `round` of the reminders to review a break-glass grant, at `at`, the next `everyMs` later. */
  async reviewReminder(requestId: string, at: number, everyMs: number, round = 1): Promise<void> {
    await this.addAll([[{ kind: 'review-remind', requestId, round, everyMs }, at]]);
  }

  /** A Slack effect to (re)try through the queue, e.g. after `chat.update` failed in the bot. */
  async notify(
    request: Pick<AccessRequest, 'id' | 'status' | 'grantStatus' | 'approvals'>,
    effect: 'refresh-message' | 'request-expired' | 'grant-ended',
  ): Promise<void> {
    const state =
      effect === 'refresh-message'
        ? `${request.status}-${request.grantStatus ?? 'none'}-${request.approvals.length}`
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
        jobs.map(([data, at]) => ({
          name: data.kind,
          data,
          opts: { jobId: jobIdOf(data), delay: Math.max(0, at - now) },
        })),
      );
    } catch (err) {
      throw unavailable(err);
    }
  }
}
