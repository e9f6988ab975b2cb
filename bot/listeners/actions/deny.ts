import { errorFor } from '../../../shared/errors.js';
import { RequestIdSchema } from '../../../shared/ids.js';
import { isApprover } from '../../../shared/policy/index.js';
import type { BotDeps } from '../../deps.js';
import { denyModal } from '../../views/modals.js';
import { onButton } from './button.js';

/**
 * Deny (`value` = request id): opens the form for an optional reason. Someone who may not decide is
 * refused here, before typing anything; the submission checks again (views/deny-submitted.ts).
 */
export function denyButton(deps: BotDeps) {
  return onButton(deps, RequestIdSchema, async ({ body, user, value }) => {
    const request = await deps.access.load(value);
    const resource = deps.policy().resources.get(request.resource);
    if (!resource || !(await isApprover(resource, user, deps.people.usergroups))) {
      throw errorFor('not_an_approver', { requestId: value, resource: request.resource });
    }
    if (request.status !== 'pending') {
      throw errorFor('request_not_pending', { requestId: value, detail: request.status });
    }
    await deps.client.views.open({ trigger_id: body.trigger_id, view: denyModal(request.id) });
  });
}
