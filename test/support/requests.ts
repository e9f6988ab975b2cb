import type { NewRequest } from '../../shared/grants/store.js';
import { newRequestId, type SlackUserId } from '../../shared/ids.js';

/** A request as the use cases would file it: alice asks for grafana/viewer, one approval needed. */
export function newRequestInput(overrides: Partial<NewRequest> = {}): NewRequest {
  return {
    id: newRequestId(),
    kind: 'access',
    requester: 'U0ALICE' as SlackUserId,
    email: 'alice@example.com',
    resource: 'grafana',
    role: 'viewer',
    durationMs: 60_000,
    reason: 'INC-123',
    breakGlass: false,
    approvalsRequired: 1,
    selfApproval: false,
    pendingTimeoutMs: 60_000,
    ...overrides,
  };
}
