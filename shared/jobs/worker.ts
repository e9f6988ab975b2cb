import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Effect } from '../access/effects.js';
import { type Expiry, endGrant, timeOutRequest } from '../access/expire.js';
import type { AccessRequest } from '../grants/records.js';
import type { AccessStore } from '../grants/store.js';
import type { GrantId, RequestId } from '../ids.js';
import type { RedisClient } from '../redis/connect.js';
import { JobData, QUEUE_NAME } from './definitions.js';
import { type AskFiler, type ConfirmedApprovals, type Notifier, PermanentFailure } from './notifier.js';
import type { JobScheduler } from './scheduler.js';

export interface WorkerDeps {
  connection: RedisClient;
  queuePrefix: string;
  store: AccessStore;
  scheduler: JobScheduler;
  notifier: Notifier;
  log: Logger;
  /** How long before expiry the holder is reminded, per resource (from the policy). */
  reminderBeforeMs: (resource: string) => number;
  concurrency?: number;
  /** Files requests asked for on pages (`file-ask` jobs); without it such a job fails for good. */
  asks?: AskFiler | undefined;
  /** Counts approvals confirmed with a fresh sign-in (`approve-confirmed` jobs); without it such a job fails for good. */
  approvals?: ConfirmedApprovals | undefined;
}

/** How many times the approvers are reminded of an unreviewed break-glass grant (then the audit report has it). */
export const MAX_REVIEW_REMINDERS = 12;

/**
 * Runs the lifecycle's delayed work. Each job re-reads the state it acts on, so a duplicate, late or
 * superseded job (an extended grant's old expiry) does nothing.
 *
 * @example const worker = startWorker(deps); … await worker.close();
 */
export function startWorker(deps: WorkerDeps): Worker {
  const worker = new Worker(QUEUE_NAME, (job, token) => runJob(deps, job, token), {
    connection: deps.connection,
    prefix: deps.queuePrefix,
    concurrency: deps.concurrency ?? 8,
  });
  worker.on('error', (err) => deps.log.error({ err }, 'worker: queue connection error'));
  worker.on('failed', (job, err) =>
    deps.log.warn({ err, jobId: job?.id, attempts: job?.attemptsMade }, 'worker: job failed'),
  );
  return worker;
}

/**
 * The effects a timeout owes, each queued as a `notify` job of its own (deterministic id: one per
 * effect and state), so that a failure retries that effect alone and a retried timeout adds nothing.
 */
async function queueEffects(scheduler: JobScheduler, { request, effects }: Expiry): Promise<void> {
  for (const effect of effects) {
    const kind = NOTIFY_OF[effect.type];
    if (kind) await scheduler.notify(request, kind);
  }
}

const NOTIFY_OF: Partial<Record<Effect['type'], 'refresh-message' | 'request-expired' | 'grant-ended'>> = {
  'update-approval-message': 'refresh-message',
  'tell-request-expired': 'request-expired',
  'tell-grant-ended': 'grant-ended',
};

/**
 * A delivered effect list, in order, from the first not yet done (a retry resumes there). An effect
 * that can never succeed is logged and skipped; an approval message that can never be posted makes
 * the approvers hear by DM instead.
 */
async function carryOutInOrder(
  deps: WorkerDeps,
  job: Job,
  data: Extract<JobData, { kind: 'effects' }>,
  request: AccessRequest,
): Promise<void> {
  for (let i = data.done; i < data.effects.length; i++) {
    const effect = data.effects[i]!;
    const named = 'requestId' in effect ? effect.requestId : request.id;
    const subject = named === request.id ? request : await deps.store.queries.getRequest(named);
    try {
      if (subject) await deps.notifier.carryOut(effect, subject);
    } catch (err) {
      if (!(err instanceof PermanentFailure)) throw err;
      deps.log.warn(
        { err, requestId: named, effect: effect.type },
        'worker: effect cannot be carried out; skipped',
      );
      if (subject && effect.type === 'post-approval-message' && effect.nudgeIfUnposted) {
        await deps.notifier.nudgeApprovers(subject);
      }
    }
    await job.updateData({ ...data, done: i + 1 });
  }
}

async function runJob(deps: WorkerDeps, job: Job, token?: string): Promise<string> {
  const data = JobData.parse(job.data);
  const { store, scheduler, notifier } = deps;
  if (data.kind === 'file-ask') {
    // No request yet: filing it is the job.
    if (!deps.asks) throw new UnrecoverableError('this worker cannot file requests asked for on pages');
    return deps.asks.file(data);
  }
  if (data.kind === 'approve-confirmed') {
    if (!deps.approvals) throw new UnrecoverableError('this worker cannot count confirmed approvals');
    return deps.approvals.approve(data.requestId, data.approver);
  }
  const request = await store.queries.getRequest(data.requestId);
  if (!request) return 'gone';
  try {
    switch (data.kind) {
      case 'grant-expire': {
        const due = { requestId: request.id, grantId: data.grantId as GrantId, expiresAt: data.expiresAt };
        const end = await endGrant(deps, due);
        if (end.extendedTo !== undefined) return 'extended';
        if (end.dueAt !== undefined) {
          if (data.remind) {
            // Its reminder time: the reminder goes as a job of its own (retried on its own), and this
            // one waits for the expiry itself.
            if (request.grantStatus === 'active' && request.expiresAt === data.expiresAt)
              await scheduler.notify(request, 'expiring-soon');
            await job.updateData({ ...data, remind: false });
          }
          // Early (the reminder, or a few ms before the expiry): come back at the expiry itself.
          await job.moveToDelayed(end.dueAt + 20, token);
          throw new DelayedError();
        }
        await queueEffects(scheduler, end);
        return end.change === 'expired' ? 'expired' : 'noop';
      }
      case 'request-timeout': {
        const timedOut = await timeOutRequest(deps, request.id as RequestId);
        await queueEffects(scheduler, timedOut);
        return timedOut.change === 'expired' ? 'expired' : 'noop';
      }
      case 'request-nudge':
        if (request.status !== 'pending') return 'decided';
        await notifier.nudgeApprovers(request);
        return 'nudged';
      case 'review-remind': {
        if (!request.breakGlass || request.review || !request.grantId) return 'reviewed';
        await notifier.reviewReminder(request);
        if (data.round < MAX_REVIEW_REMINDERS) {
          await scheduler.reviewReminder(request.id, Date.now() + data.everyMs, data.everyMs, data.round + 1);
        }
        return 'reminded';
      }
      case 'request-escalate': {
        const { outcome, request: escalated } = await store.transitions.escalate(request.id as RequestId);
        if (outcome === 'noop') return 'decided';
        try {
          await notifier.refreshApprovalMessage(escalated);
        } catch (err) {
          if (!(err instanceof PermanentFailure)) throw err;
          deps.log.warn(
            { err, requestId: request.id },
            'worker: approval message cannot show the escalation',
          );
        }
        // A retry (the DMs failed) finds it already escalated and sends them again.
        await notifier.escalated(escalated);
        return 'escalated';
      }
      case 'grant-remind':
        if (request.grantStatus !== 'active' || request.expiresAt !== data.expiresAt) return 'superseded';
        await notifier.grantExpiringSoon(request);
        return 'reminded';
      case 'effects':
        await carryOutInOrder(deps, job, data, request);
        return 'sent';
      case 'redeem-refused':
        await notifier.redeemRefused(request, { openedBy: data.openedBy, client: data.client });
        return 'sent';
      case 'notify':
        if (data.effect === 'refresh-message') await notifier.refreshApprovalMessage(request);
        else if (data.effect === 'request-expired') await notifier.requestExpired(request);
        else if (data.effect === 'expiring-soon') {
          if (request.grantStatus !== 'active' || (request.expiresAt ?? 0) <= Date.now()) return 'superseded';
          await notifier.grantExpiringSoon(request);
        } else await notifier.grantEnded(request);
        return 'sent';
    }
  } catch (err) {
    if (err instanceof PermanentFailure) throw new UnrecoverableError(err.message);
    throw err;
  }
}
