import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';
import { applyOutcome } from '../../effects/apply.js';
import { parseDenyModal } from '../../views/modals.js';
import { firstDelivery } from '../once.js';
import { tellActor } from '../reply.js';
import { ViewBody } from '../slack-input.js';

/** The deny form (`jit_deny_reason`): denies the request, updates its message and tells the requester. */
export function denySubmitted(deps: BotDeps) {
  return async ({ ack, body, context }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const parsedBody = ViewBody.safeParse(body);
    if (!parsedBody.success) {
      await ack();
      return;
    }
    const { view, user } = parsedBody.data;
    const form = parseDenyModal(view.state.values, view.private_metadata);
    if (!form.ok) {
      await ack({ response_action: 'errors', errors: form.errors });
      return;
    }
    await ack();
    if (!(await firstDelivery(deps, body, context))) return;
    const outcome = await deps.access.deny(form.input.requestId, user.id, form.input.reason);
    await applyOutcome(deps, outcome, { actor: user.id, tell: tellActor(deps, body) });
  };
}
