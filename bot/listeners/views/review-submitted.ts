import type { BotDeps } from '../../deps.js';
import { applyOutcome } from '../../effects/apply.js';
import { parseReviewModal } from '../../views/modals.js';
import { onSubmission } from './submission.js';

/** The review form (`jit_review_note`): records the review, updates the grant's message and tells the reviewer. */
export function reviewSubmitted(deps: BotDeps) {
  return onSubmission(
    deps,
    (view) => parseReviewModal(view.state.values, view.private_metadata),
    async ({ input, body, tell }) => {
      const outcome = await deps.access.review(input.grantId, body.user.id, input.verdict, input.note);
      await applyOutcome(deps, outcome, { actor: body.user.id, tell });
    },
  );
}
