import { formatDuration } from '../duration.js';
import { errorFor } from '../errors.js';
import { type GrantId, newRequestId, type SlackUserId } from '../ids.js';
import { checkExtension, checkNote, checkReasonFor, getResource, isAutoApproved } from '../policy/index.js';
import type { AccessDeps } from './deps.js';
import type { Outcome } from './effects.js';
import { loadActiveGrant } from './load.js';
import { checkEmail, filed, limitsOf } from './request.js';

/** Asking for more time on a grant: which one, how much more, and why ('' keeps the grant's reason). */
export interface ExtendInput {
  grantId: GrantId;
  user: SlackUserId;
  durationMs: number;
  reason: string;
}

/**
 * Asks for more time on an active grant, approved like a new request (at once where the holder is
 * auto-approved). Only the holder may, one extension at a time per grant, and never past the
 * resource's longest access at a time: the time asked for is checked here, and again when it is
 * approved, where the grant is capped so that it has at most maxDuration left from then.
 *
 * @example await extendGrant(deps, { grantId, user, durationMs: 30 * 60_000, reason: 'still on INC-1' });
 */
export async function extendGrant(deps: AccessDeps, input: ExtendInput): Promise<Outcome> {
  const { grantId, user, durationMs } = input;
  const original = await loadActiveGrant(deps, grantId);
  if (original.requester !== user) {
    throw errorFor('not_allowed_to_request', { grantId });
  }
  const resource = getResource(deps.policy(), original.resource);
  const now = deps.clock.now();
  const leftMs = (original.expiresAt ?? 0) - now;
  checkExtension(resource, leftMs, durationMs);
  // Auto-approval's maxDuration bounds what the grant would have from now, not the step alone.
  const ask = { user, role: original.role, durationMs: leftMs + durationMs, at: now };
  const autoApproved = await isAutoApproved(resource, ask, deps.usergroups);
  const { reason, ticket } = checkReasonFor(
    resource,
    checkNote(input.reason) || original.reason,
    `/access extend ${grantId} ${formatDuration(durationMs)}`,
  );
  checkEmail(resource, original.email);
  const id = newRequestId();
  const decided = await deps.store.transitions.createRequest(
    {
      id,
      kind: 'extension',
      requester: user,
      email: original.email,
      resource: resource.name,
      role: original.role,
      durationMs,
      reason,
      ...(ticket ? { ticket } : {}),
      ...(resource.escalation ? { escalateTo: resource.escalation.to } : {}),
      breakGlass: false,
      approvalsRequired: resource.approvalsRequired,
      selfApproval: resource.selfApproval,
      pendingTimeoutMs: resource.pendingTimeoutMs,
      // One pending extension per grant (not the per-resource limit, which is for new access); an
      // auto-approved one is capped in the script at the auto-approval's own maximum as well, so
      // that extensions fired together cannot each pass the check above on a stale `leftMs`.
      limits: {
        ...limitsOf(resource),
        pendingPerResource: 0,
        maxDurationMs: Math.min(
          resource.maxDurationMs,
          (autoApproved && resource.autoApprove.maxDurationMs) || resource.maxDurationMs,
        ),
      },
      extendsGrant: grantId,
      ...(original.team ? { team: original.team } : {}),
    },
    autoApproved ? 'jitgate' : undefined,
  );
  return filed(deps, resource, decided);
}
