import type { BotDeps } from '../../deps.js';
import { parseRequestModal } from '../../views/modals.js';
import { submitRequest } from '../submit-request.js';
import { onSubmission } from './submission.js';

/**
 * The request form (`jit_request`). What the form alone can tell (a resource chosen, a role of it, a
 * duration within its limit, a reason) is checked before the ack by the same rules as the command
 * and the use case (shared/policy/rules.ts), so mistakes show beside their field in the same words; the rest (who may request it, saving it) happens after, and its answer goes back to where
 * the form was opened.
 */
export function requestSubmitted(deps: BotDeps) {
  return onSubmission(
    deps,
    (view) => parseRequestModal(view.state.values, [...deps.policy().resources.values()]),
    async ({ input, body, tell }) => {
      const { user, team } = body;
      await submitRequest(deps, user.id, { ...input, team: team?.id ?? user.team_id }, tell);
    },
  );
}
