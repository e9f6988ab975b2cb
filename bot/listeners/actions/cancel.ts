import { RequestIdSchema } from '../../../shared/ids.js';
import type { BotDeps } from '../../deps.js';
import { applyOutcome } from '../../effects/apply.js';
import { onButton } from './button.js';

/** Cancel (`value` = request id): only the requester, while it is pending (the same use case as `/access cancel`). */
export function cancelButton(deps: BotDeps) {
  return onButton(deps, RequestIdSchema, async ({ user, value, tell }) => {
    await applyOutcome(deps, await deps.access.cancel(value, user), { actor: user, tell });
  });
}
