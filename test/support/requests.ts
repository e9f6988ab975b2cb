import { systemClock } from '../../shared/clock.js';
import type { AccessStore, NewRequest } from '../../shared/grants/store.js';
import { type GrantId, newRequestId, type SlackUserId } from '../../shared/ids.js';
import type { Policy } from '../../shared/policy/index.js';
import { type SigningKeys, signAccessToken } from '../../shared/tokens/index.js';

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

/** What grantedToken needs: the store the grant goes into, the policy it names, the keys that sign. */
export interface GrantingDeps {
  store: AccessStore;
  policy: Policy;
  keys: SigningKeys;
  /** JITGATE_PUBLIC_URL: the token's issuer. */
  issuer: string;
}

/**
 * A live grant made through the real lifecycle (filed, then approved by the resource's approver
 * U0BOSS) and an access token for it, as redeem would sign it. `role` defaults to the resource's
 * first, `user` to Alice.
 *
 * @example const { token, grantId } = await grantedToken(deps, 'grafana', 'viewer');
 */
export async function grantedToken(
  deps: GrantingDeps,
  resource: string,
  role?: string,
  opts: { user?: SlackUserId; durationMs?: number } = {},
): Promise<{ grantId: GrantId; expiresAt: number; token: string }> {
  const roleName = role ?? deps.policy.resources.get(resource)!.roles[0]!.name;
  const user = opts.user ?? ('U0ALICE' as SlackUserId);
  const req = newRequestInput({
    requester: user,
    email: `${user.toLowerCase()}@example.com`,
    resource,
    role: roleName,
    durationMs: opts.durationMs ?? 60_000,
    reason: 'test',
  });
  await deps.store.transitions.createRequest(req);
  const { decision } = await deps.store.transitions.approve(req.id, 'U0BOSS' as SlackUserId);
  if (decision.outcome !== 'granted') throw new Error(`not granted: ${decision.outcome}`);
  const token = await signAccessToken(
    deps.keys,
    {
      issuer: deps.issuer,
      grantId: decision.grantId,
      user,
      email: req.email,
      resource,
      role: roleName,
      expiresAt: decision.expiresAt,
    },
    systemClock,
  );
  return { grantId: decision.grantId, expiresAt: decision.expiresAt, token };
}
