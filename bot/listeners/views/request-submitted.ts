import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';
import { parseRequestModal } from '../../views/modals.js';
import { firstDelivery } from '../once.js';
import { tellActor } from '../reply.js';
import { ViewBody } from '../slack-input.js';
import { submitRequest } from '../submit-request.js';

/**
 * The request form (`jit_request`). What the form alone can tell (a resource chosen, a role of it, a
 * duration within its limit, a reason) is checked before the ack by the same rules as the command
 * and the use case (shared/policy/rules.ts), so mistakes show beside their field in the same words; the rest (who may request it, saving it) happens after, and its answer goes back to where
 * the form was opened.
 */
export function requestSubmitted(deps: BotDeps) {
  return async ({ ack, body, context }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const parsedBody = ViewBody.safeParse(body);
    if (!parsedBody.success) {
      await ack();
      return;
    }
    const form = parseRequestModal(parsedBody.data.view.state.values, [...deps.policy().resources.values()]);
    if (!form.ok) {
      await ack({ response_action: 'errors', errors: form.errors });
      return;
    }
    await ack();
    if (!(await firstDelivery(deps, body, context))) return;
    const { user, team } = parsedBody.data;
    const input = { ...form.input, team: team?.id ?? user.team_id };
    await submitRequest(deps, user.id, input, tellActor(deps, body));
  };
}
