import type { AccessRequest } from '../grants/records.js';
import type { Ask } from './ask.js';

/**
 * Where an ask stands, for the page that follows it: `queued` (the bot's side has not filed it
 * yet), `pending` (waiting for approvers), `approved` (go back to the resource), `denied`,
 * `timed-out`, `cancelled`, or `refused` (the bot's side could not file it; `message` says why).
 */
export type AskState = 'queued' | 'pending' | 'approved' | 'denied' | 'timed-out' | 'cancelled' | 'refused';

export interface AskStatus {
  state: AskState;
  /** One sentence for the person. */
  message: string;
  /** With `approved`: the address to go back to. */
  continueTo?: string;
  /** With `pending`: approvals so far and how many are needed. */
  approvals?: number;
  required?: number;
}

/**
 * The status of an ask given the request it follows (undefined: not filed yet).
 *
 * @example askStatus(ask, request) // { state: 'pending', message: 'Waiting for an approver…', approvals: 0, required: 1 }
 */
export function askStatus(ask: Ask, request: AccessRequest | undefined): AskStatus {
  if (ask.refused !== undefined) return { state: 'refused', message: ask.refused };
  if (!request) return { state: 'queued', message: 'Sending your request to the approvers…' };
  switch (request.status) {
    case 'pending':
      return {
        state: 'pending',
        message: `Waiting for approval in Slack (${request.approvals.length} of ${request.approvalsRequired}).`,
        approvals: request.approvals.length,
        required: request.approvalsRequired,
      };
    case 'approved':
      return { state: 'approved', message: 'Approved. Taking you back…', continueTo: ask.returnTo };
    case 'denied':
      return {
        state: 'denied',
        message: `Your request was denied${request.denyReason ? `: ${request.denyReason}` : '.'}`,
      };
    case 'expired':
      return { state: 'timed-out', message: 'Your request timed out before anyone decided on it.' };
    case 'cancelled':
      return { state: 'cancelled', message: 'Your request was cancelled.' };
  }
}

/** Whether an ask still waits (a new one is not filed beside it). */
export function isWaiting(status: AskStatus): boolean {
  return status.state === 'queued' || status.state === 'pending';
}
