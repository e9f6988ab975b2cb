import { RequestIdSchema } from '../../../shared/ids.js';
import type { BotDeps } from '../../deps.js';
import { applyOutcome } from '../../effects/apply.js';
import { onButton } from './button.js';

/**
 * Approve (`value` = request id): only an approver of the resource, and the requester only where
 * self-approval is on; anyone else is refused privately and nothing changes. The approval that
 * reaches the threshold mints the grant and DMs the requester the one-time link.
 */
export function approveButton(deps: BotDeps) {
  return onButton(deps, RequestIdSchema, async ({ user, value, tell }) => {
    await applyOutcome(deps, await deps.access.approve(value, user), { actor: user, tell });
  });
}
