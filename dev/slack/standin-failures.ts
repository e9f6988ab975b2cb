import type { SlackBody } from './standin-answers.js';

/**
 * A failure for `failNext`: `{ status: 429, retryAfterSec }` (rate limited, with `Retry-After`, default 1;
 * `null` leaves the header out), `{ status: 500 }` or any other non-200 status, or `{ error }` (HTTP 200
 * with `ok: false`).
 */
export type SlackFailure = { status: number; retryAfterSec?: number | null } | { error: string };

/** What the stand-in sends back: the HTTP status, extra headers, and the JSON body. */
export interface StandinAnswer {
  status: number;
  headers: Record<string, string>;
  response: SlackBody;
}

/** Failures queued per method with `failNext`, taken in order, one per call. */
export class FailureQueue {
  private readonly queues = new Map<string, { failure: SlackFailure; left: number }[]>();

  add(method: string, failure: SlackFailure, times: number): void {
    if (!Number.isInteger(times) || times < 1)
      throw new RangeError(`failNext: times must be ≥ 1, not ${times}`);
    const queue = this.queues.get(method) ?? [];
    queue.push({ failure, left: times });
    this.queues.set(method, queue);
  }

  clear(): void {
    this.queues.clear();
  }

  /** The answer for this call to `method` if a failure is queued for it (and uses that failure up). */
  take(method: string): StandinAnswer | undefined {
    const queue = this.queues.get(method);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.left -= 1;
    if (head.left <= 0) queue.shift();
    return answerOf(head.failure);
  }
}

function answerOf(failure: SlackFailure): StandinAnswer {
  if ('error' in failure) return { status: 200, headers: {}, response: { ok: false, error: failure.error } };
  const limited = failure.status === 429;
  const retryAfter = failure.retryAfterSec === undefined ? 1 : failure.retryAfterSec;
  return {
    status: failure.status,
    headers: limited && retryAfter !== null ? { 'retry-after': String(retryAfter) } : {},
    response: { ok: false, error: limited ? 'ratelimited' : 'internal_error' },
  };
}
