import type { Job, Queue, Worker } from 'bullmq';

/**
 * Signals from the job queue, for tests that must know that work has run before they assert that
 * it changed nothing (a fixed sleep would pass just as well with no worker at all).
 */

/**
 * The return value of the first job `worker` completes that matches `match`; rejects after
 * `timeoutMs`. Subscribe before the job can run.
 *
 * @example const expired = jobCompleted(worker, (job) => job.name === 'grant-expire');
 */
export function jobCompleted(
  worker: Worker,
  match: (job: Job) => boolean,
  timeoutMs = 10_000,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onCompleted = (job: Job, result: unknown) => {
      if (!match(job)) return;
      clearTimeout(timer);
      worker.off('completed', onCompleted);
      resolve(result);
    };
    const timer = setTimeout(() => {
      worker.off('completed', onCompleted);
      reject(new Error(`no matching job completed within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.on('completed', onCompleted);
  });
}

/**
 * Resolves once nothing is left to run in `queue` (no job waiting, delayed, active or
 * prioritized): everything scheduled so far has been done, so nothing more will happen on its own.
 * Rejects after `timeoutMs`.
 */
export async function queueSettled(queue: Queue, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await queue.getJobCounts(
      'waiting',
      'delayed',
      'active',
      'prioritized',
      'waiting-children',
    );
    const left = Object.values(counts).reduce((sum, n) => sum + n, 0);
    if (left === 0) return;
    if (Date.now() > deadline)
      throw new Error(`the queue still had work after ${timeoutMs} ms: ${JSON.stringify(counts)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Resolves once `bot` is handling no delivery and `queue` has no job due now (none waiting, active
 * or prioritized): what the deliveries so far set off has been done, so a test may assert that
 * something did not happen. Delayed jobs (a pending request's timeout, a grant's expiry) are not
 * waited for. Rejects after `timeoutMs`.
 */
export async function botSettled(
  bot: { idle(): Promise<void> },
  queue: Queue,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await bot.idle();
    const counts = await queue.getJobCounts('waiting', 'active', 'prioritized');
    if (Object.values(counts).every((n) => n === 0)) return;
    if (Date.now() > deadline)
      throw new Error(`the queue still had work due after ${timeoutMs} ms: ${JSON.stringify(counts)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
