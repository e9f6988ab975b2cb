import { GrantIdSchema } from '../../../shared/ids.js';
import type { BotDeps } from '../../deps.js';
import { applyOutcome } from '../../effects/apply.js';
import { onButton } from './button.js';

/** Revoke (`value` = grant id): the holder, an approver of the resource or an admin (the same use case as `/access revoke`). */
export function revokeButton(deps: BotDeps) {
  return onButton(deps, GrantIdSchema, async ({ user, value, tell }) => {
    await applyOutcome(deps, await deps.access.revoke(value, user), { actor: user, tell });
  });
}
