import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';
import { applyOutcome } from '../../effects/apply.js';
import { parseReviewModal } from '../../views/modals.js';
import { firstDelivery } from '../once.js';
import { tellActor } from '../reply.js';
import { ViewBody } from '../slack-input.js';

/** The review form (`jit_review_note`): records the review, updates the grant's message and tells the reviewer. */
export function reviewSubmitted(deps: BotDeps) {
  return async ({ ack, body, context }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const parsedBody = ViewBody.safeParse(body);
    if (!parsedBody.success) {
      await ack();
      return;
    }
    const { view, user } = parsedBody.data;
    const form = parseReviewModal(view.state.values, view.private_metadata);
    if (!form.ok) {
      await ack({ response_action: 'errors', errors: form.errors });
      return;
    }
    await ack();
    if (!(await firstDelivery(deps, body, context))) return;
    const { grantId, verdict, note } = form.input;
    const outcome = await deps.access.review(grantId, user.id, verdict, note);
    await applyOutcome(deps, outcome, { actor: user.id, tell: tellActor(deps, body) });
  };
}
