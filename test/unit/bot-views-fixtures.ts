import type { AccessRequest } from '../../shared/grants/records.js';
import type { GrantId, RequestId, SlackUserId } from '../../shared/ids.js';
import type { Resource } from '../../shared/policy/types.js';

/** Fixtures shared by the bot view tests: a resource as the policy yields it, and requests in each state. */
export const NOW = Date.UTC(2030, 0, 15, 12, 0, 0);
export const MIN = 60_000;
export const RID = 'r_aaaaaaaaaaaaaaaaaaaaaaaaaa' as RequestId;
export const GID = 'g_aaaaaaaaaaaaaaaaaaaaaaaaaa' as GrantId;
export const U = (id: string) => id as SlackUserId;

export const grafana: Resource = {
  name: 'grafana',
  description: 'Production Grafana',
  upstream: 'http://127.0.0.1:3001',
  match: { pathPrefix: '/grafana' },
  approvers: { users: [U('U0ALICE')], usergroups: ['S0SRE'] },
  requesters: undefined,
  approvalChannel: 'C0APPROVALS',
  defaultDurationMs: 60 * MIN,
  maxDurationMs: 240 * MIN,
  pendingTimeoutMs: 30 * MIN,
  nudgeAfterMs: 10 * MIN,
  reminderBeforeMs: 5 * MIN,
  approvalsRequired: 2,
  reviewRemindEveryMs: 4 * 3_600_000,
  approverStepUp: false,
  selfApproval: false,
  maxPendingRequests: 5,
  maxPendingPerResource: 1,
  requireEmail: true,
  roles: [
    { name: 'viewer', methods: ['GET', 'HEAD'], paths: ['/**'] },
    { name: 'editor', methods: ['*'], paths: ['/api/**'] },
  ],
  networks: [],
  websocket: true,
  breakGlass: true,
  autoApprove: { users: [], usergroups: [], roles: [] },
};

export function pending(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id: RID,
    kind: 'access',
    status: 'pending',
    requester: U('U0CAROL'),
    email: 'carol@example.com',
    resource: 'grafana',
    role: 'viewer',
    durationMs: 120 * MIN,
    reason: 'INC-123 dashboards',
    breakGlass: false,
    approvalsRequired: 2,
    selfApproval: false,
    approvals: [],
    createdAt: NOW - 5 * MIN,
    pendingUntil: NOW + 25 * MIN,
    ...overrides,
  };
}

export const approved = (overrides: Partial<AccessRequest> = {}) =>
  pending({
    status: 'approved',
    approvals: [U('U0ALICE'), U('U0BOB')],
    decidedAt: NOW - MIN,
    decidedBy: U('U0BOB'),
    grantId: GID,
    grantStatus: 'active',
    issuedAt: NOW - MIN,
    expiresAt: NOW + 119 * MIN,
    ...overrides,
  });
