import { z } from 'zod';
import type { GrantId, RequestId, SlackUserId } from '../ids.js';

/** Records read back from Redis are checked like any other outside input. */
const num = z.coerce.number();
const optNum = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s === '' ? undefined : Number(s)));
const optStr = z
  .string()
  .optional()
  .transform((s) => (s === '' ? undefined : s));
const flag = z
  .string()
  .optional()
  .transform((s) => s === '1');

export const REQUEST_STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled'] as const;
export const GRANT_STATUSES = ['active', 'revoked', 'expired'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export type GrantStatus = (typeof GRANT_STATUSES)[number];

export interface SlackMessageRef {
  channel: string;
  ts: string;
}

const RequestHash = z.object({
  id: z.string(),
  kind: z.enum(['access', 'extension']),
  status: z.enum(REQUEST_STATUSES),
  requester: z.string(),
  email: z.string().default(''),
  resource: z.string(),
  role: z.string(),
  durationMs: num,
  reason: z.string(),
  breakGlass: flag,
  approvalsRequired: num,
  selfApproval: flag,
  createdAt: num,
  pendingUntil: num,
  decidedAt: optNum,
  decidedBy: optStr,
  denyReason: optStr,
  grantId: optStr,
  extendsGrant: optStr,
  team: optStr,
  ticket: optStr,
  escalateTo: optStr,
  escalatedAt: optNum,
  steppedUp: flag,
  reviewedAt: optNum,
  reviewedBy: optStr,
  reviewVerdict: z.enum(['justified', 'flagged']).optional(),
  reviewNote: optStr,
  channel: optStr,
  ts: optStr,
  grantStatus: z.enum(GRANT_STATUSES).optional(),
  issuedAt: optNum,
  expiresAt: optNum,
  endedAt: optNum,
  endedBy: optStr,
  addedMs: optNum,
  capped: flag,
});

/** An access request (or a request to extend a grant) and, once approved, its grant's story. */
export interface AccessRequest {
  id: RequestId;
  kind: 'access' | 'extension';
  status: RequestStatus;
  requester: SlackUserId;
  email: string;
  resource: string;
  role: string;
  durationMs: number;
  reason: string;
  breakGlass: boolean;
  approvalsRequired: number;
  selfApproval: boolean;
  approvals: SlackUserId[];
  createdAt: number;
  pendingUntil: number;
  decidedAt?: number | undefined;
  decidedBy?: SlackUserId | undefined;
  denyReason?: string | undefined;
  grantId?: GrantId | undefined;
  extendsGrant?: GrantId | undefined;
  /** The Slack workspace (team id) the request was made in, when known: a Slack sign-in must be of it. */
  team?: string | undefined;
  /** The ticket id in the reason, when the resource has a reasonPattern: a field of its audit events. */
  ticket?: string | undefined;
  /**
   * Who gets the request when it is still undecided at the resource's escalateAfter (fixed when it
   * was filed); they may decide it once it is escalated (`escalatedAt`).
   */
  escalateTo?: { users: SlackUserId[]; usergroups: string[] } | undefined;
  escalatedAt?: number | undefined;
  /** Its approvals were confirmed in the browser with a fresh sign-in (approverStepUp). */
  steppedUp?: boolean | undefined;
  /** A break-glass grant's review (the first one counts): when, by whom, justified or flagged, and a note. */
  review?: GrantReview | undefined;
  /** Where the bot posted the approval message (the bot writes it: bot/slack/message-refs.ts). */
  message?: SlackMessageRef | undefined;
  grantStatus?: GrantStatus | undefined;
  issuedAt?: number | undefined;
  expiresAt?: number | undefined;
  endedAt?: number | undefined;
  endedBy?: SlackUserId | undefined;
  /**
   * An approved extension: the time it added to its grant, less than `durationMs` when it was capped
   * (`capped`) so that the grant had no more than the resource's maxDuration left.
   */
  addedMs?: number | undefined;
  capped?: boolean | undefined;
}

export function parseRequest(hash: Record<string, string>, approvals: string[]): AccessRequest | undefined {
  if (!hash.id) return undefined;
  const r = RequestHash.parse(hash);
  return {
    ...r,
    id: r.id as RequestId,
    requester: r.requester as SlackUserId,
    approvals: [...approvals].sort() as SlackUserId[],
    decidedBy: r.decidedBy as SlackUserId | undefined,
    grantId: r.grantId as GrantId | undefined,
    extendsGrant: r.extendsGrant as GrantId | undefined,
    endedBy: r.endedBy as SlackUserId | undefined,
    message: r.channel && r.ts ? { channel: r.channel, ts: r.ts } : undefined,
    escalateTo: r.escalateTo === undefined ? undefined : peopleOf(r.escalateTo),
    review:
      r.reviewedAt !== undefined && r.reviewedBy && r.reviewVerdict
        ? { at: r.reviewedAt, by: r.reviewedBy as SlackUserId, verdict: r.reviewVerdict, note: r.reviewNote }
        : undefined,
  };
}

export interface GrantReview {
  at: number;
  by: SlackUserId;
  verdict: 'justified' | 'flagged';
  note?: string | undefined;
}

/** `U0A,S0B` as stored on a request: user ids and user-group ids (S…). */
function peopleOf(list: string): { users: SlackUserId[]; usergroups: string[] } {
  const ids = list.split(',').filter((id) => id !== '');
  return {
    users: ids.filter((id) => !id.startsWith('S')) as SlackUserId[],
    usergroups: ids.filter((id) => id.startsWith('S')),
  };
}

/** The stored form of `escalateTo` (see peopleOf). */
export function peopleList(people: { users: readonly string[]; usergroups: readonly string[] }): string {
  return [...people.users, ...people.usergroups].join(',');
}

/** The live grant the authorizer checks on every request; its Redis key expires with it. */
export interface LiveGrant {
  id: GrantId;
  requestId: RequestId;
  status: 'active' | 'revoked';
  user: SlackUserId;
  email: string;
  resource: string;
  role: string;
  expiresAt: number;
}

/** The fields of the grant hash, in the order `HMGET` reads them on the hot path. */
export const LIVE_GRANT_FIELDS = [
  'status',
  'user',
  'email',
  'resource',
  'role',
  'expiresAt',
  'requestId',
] as const;

export function parseLiveGrant(id: string, values: (string | null)[]): LiveGrant | undefined {
  const [status, user, email, resource, role, expiresAt, requestId] = values;
  if (!status || !user || !resource || !role || !expiresAt || !requestId) return undefined;
  if (status !== 'active' && status !== 'revoked') return undefined;
  return {
    id: id as GrantId,
    requestId: requestId as RequestId,
    status,
    user: user as SlackUserId,
    email: email ?? '',
    resource,
    role,
    expiresAt: Number(expiresAt),
  };
}
