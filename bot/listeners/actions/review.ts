import type { Verdict } from '../../../shared/access/review.js';
import { GrantIdSchema } from '../../../shared/ids.js';
import type { BotDeps } from '../../deps.js';
import { reviewModal } from '../../views/modals.js';
import { onButton } from './button.js';

/**
 * Justified / Flag on a break-glass grant (`value` = grant id): opens the form for an optional note.
 * Someone who may not review is refused here, before typing anything; the submission checks again
 * (views/review-submitted.ts).
 */
export function reviewButton(deps: BotDeps, verdict: Verdict) {
  return onButton(deps, GrantIdSchema, async ({ body, user, value }) => {
    await deps.access.reviewable(value, user);
    await deps.client.views.open({ trigger_id: body.trigger_id, view: reviewModal(value, verdict) });
  });
}
