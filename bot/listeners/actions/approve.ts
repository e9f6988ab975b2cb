import { RequestIdSchema } from '../../../shared/ids.js';
import type { BotDeps } from '../../deps.js';
import { alreadyApprovedReply, approvalRecordedReply } from '../../views/replies.js';
import { announceApproved } from '../announce.js';
import { publishHomes } from '../home.js';
import { onButton } from './button.js';

/**
 * Approve (`value` = request id): only an approver of the resource, and the requester only where
 * self-approval is on; anyone else is refused privately and nothing changes. The approval that
 * reaches the threshold mints the grant and DMs the requester the one-time link.
 */
export function approveButton(deps: BotDeps) {
  return onButton(deps, RequestIdSchema, async ({ user, value, tell }) => {
    const outcome = await deps.access.approve(value, user);
    if (outcome.decision?.outcome === 'already_approved') {
      await tell(alreadyApprovedReply(outcome.request));
      return;
    }
    const { missed } = await announceApproved(deps, outcome);
    await tell(approvalRecordedReply(outcome.request) + missed);
    await publishHomes(deps, [outcome.request.requester, user]);
  });
}
