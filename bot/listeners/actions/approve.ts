import { RequestIdSchema } from '../../../shared/ids.js';
import { askStepUp } from '../../approvals/step-up.js';
import type { BotDeps } from '../../deps.js';
import { applyOutcome } from '../../effects/apply.js';
import { onButton } from './button.js';

/**
 * Approve (`value` = request id): only an approver of the resource, and the requester only where
 * self-approval is on; anyone else is refused privately and nothing changes. The approval that
 * reaches the threshold mints the grant and DMs the requester the one-time link. On a resource with
 * approverStepUp nothing is counted here: the approver gets a link to confirm with a fresh sign-in.
 */
export function approveButton(deps: BotDeps) {
  return onButton(deps, RequestIdSchema, async ({ body, user, value, tell }) => {
    const request = await deps.access.load(value);
    const resource = deps.policy().resources.get(request.resource);
    if (resource?.approverStepUp) {
      await tell(await askStepUp(deps, request, resource, user, body.team?.id ?? body.user.team_id));
      return;
    }
    await applyOutcome(deps, await deps.access.approve(value, user), { actor: user, tell });
  });
}
