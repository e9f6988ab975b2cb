import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AccessStore } from '../grants/store.js';
import type { GrantId, RequestId } from '../ids.js';
import { JobData, QUEUE_NAME } from './definitions.js';
import { type Notifier, PermanentFailure } from './notifier.js';
import type { JobScheduler } from './scheduler.js';

export interface WorkerDeps {
  connection: Redis;
  queuePrefix: string;
  store: AccessStore;
  scheduler: JobScheduler;
  notifier: Notifier;
  log: Logger;
  /** How long before expiry the holder is reminded, per resource (from the policy). */
  reminderBeforeMs: (resource: string) => number;
  concurrency?: number;
}

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

async function runJob(deps: WorkerDeps, job: Job, token?: string): Promise<string> {
  const data = JobData.parse(job.data);
  const { store, scheduler, notifier } = deps;
  const request = await store.getRequest(data.requestId);
  if (!request) return 'gone';
  try {
    switch (data.kind) {
      case 'grant-expire': {
        const result = await store.expireGrant(request.id, data.grantId as GrantId);
        if (!result.expired && result.expiresAt !== undefined) {
          if (result.expiresAt > data.expiresAt) {
            // Extended since this job was scheduled: the new expiry has (or now gets) its own job.
            await scheduler.grantScheduled(
              request.id,
              data.grantId,
              result.expiresAt,
              deps.reminderBeforeMs(request.resource),
            );
            return 'extended';
          }
          // A few ms early: come back at the expiry itself.
          await job.moveToDelayed(result.expiresAt + 20, token);
          throw new DelayedError();
        }
        // Expired now, or already by an earlier attempt: make sure the people involved hear of it.
        const ended = await store.getRequest(request.id);
        if (ended?.grantStatus === 'expired') {
          await scheduler.notify(ended, 'grant-ended');
          await scheduler.notify(ended, 'refresh-message');
        }
        return result.expired ? 'expired' : 'noop';
      }
      case 'request-timeout': {
        const expired = await store.expireRequest(request.id as RequestId);
        const after = await store.getRequest(request.id);
        if (after?.status === 'expired') {
          await scheduler.notify(after, 'request-expired');
          await scheduler.notify(after, 'refresh-message');
        }
        return expired ? 'expired' : 'noop';
      }
      case 'request-nudge':
        if (request.status !== 'pending') return 'decided';
        await notifier.nudgeApprovers(request);
        return 'nudged';
      case 'grant-remind':
        if (request.grantStatus !== 'active' || request.expiresAt !== data.expiresAt) return 'superseded';
        await notifier.grantExpiringSoon(request);
        return 'reminded';
      case 'notify':
        if (data.effect === 'refresh-message') await notifier.refreshApprovalMessage(request);
        else if (data.effect === 'request-expired') await notifier.requestExpired(request);
        else await notifier.grantEnded(request);
        return 'sent';
    }
  } catch (err) {
    if (err instanceof PermanentFailure) throw new UnrecoverableError(err.message);
    throw err;
  }
}
