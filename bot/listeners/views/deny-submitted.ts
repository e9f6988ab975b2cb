import type { BotDeps } from '../../deps.js';
import { applyOutcome } from '../../effects/apply.js';
import { parseDenyModal } from '../../views/modals.js';
import { onSubmission } from './submission.js';

/** The deny form (`jit_deny_reason`): denies the request, updates its message and tells the requester. */
export function denySubmitted(deps: BotDeps) {
  return onSubmission(
    deps,
    (view) => parseDenyModal(view.state.values, view.private_metadata),
    async ({ input, body, tell }) => {
      const outcome = await deps.access.deny(input.requestId, body.user.id, input.reason);
      await applyOutcome(deps, outcome, { actor: body.user.id, tell });
    },
  );
}
