import { RequestIdSchema } from '../../../shared/ids.js';
import type { BotDeps } from '../../deps.js';
import { denyModal } from '../../views/modals.js';
import { onButton } from './button.js';

/**
 * Deny (`value` = request id): opens the form for an optional reason. Someone who may not decide is
 * refused here, before typing anything; the submission checks again (views/deny-submitted.ts).
 */
export function denyButton(deps: BotDeps) {
  return onButton(deps, RequestIdSchema, async ({ body, user, value }) => {
    const request = await deps.access.decidable(value, user);
    await deps.client.views.open({ trigger_id: body.trigger_id, view: denyModal(request.id) });
  });
}
