import type { Effect } from '../../shared/access/effects.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import type { Notifier, RedeemAttempt } from '../../shared/jobs/notifier.js';

export interface NotifiedCall {
  method: keyof Notifier;
  request: AccessRequest;
  at: number;
}

/** A Notifier that records what the worker asked it to say. `failTimes` makes the next calls throw. */
export class RecordingNotifier implements Notifier {
  readonly calls: NotifiedCall[] = [];
  failTimes = 0;

  of(method: keyof Notifier): NotifiedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  async waitFor(method: keyof Notifier, timeoutMs = 10_000): Promise<NotifiedCall> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.of(method)[0];
      if (found) return found;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no ${method} within ${timeoutMs} ms`);
  }

  private record(method: keyof Notifier, request: AccessRequest): Promise<void> {
    if (this.failTimes > 0) {
      this.failTimes -= 1;
      return Promise.reject(new Error('notifier told to fail'));
    }
    this.calls.push({ method, request, at: Date.now() });
    return Promise.resolve();
  }

  refreshApprovalMessage = (r: AccessRequest) => this.record('refreshApprovalMessage', r);
  requestExpired = (r: AccessRequest) => this.record('requestExpired', r);
  nudgeApprovers = (r: AccessRequest) => this.record('nudgeApprovers', r);
  escalated = (r: AccessRequest) => this.record('escalated', r);
  reviewReminder = (r: AccessRequest) => this.record('reviewReminder', r);
  grantExpiringSoon = (r: AccessRequest) => this.record('grantExpiringSoon', r);
  grantEnded = (r: AccessRequest) => this.record('grantEnded', r);
  carryOut = (_e: Effect, r: AccessRequest) => this.record('carryOut', r);
  redeemRefused = (r: AccessRequest, _a: RedeemAttempt) => this.record('redeemRefused', r);
}
