import type { Outcome } from '../../shared/access/effects.js';
import {
  alreadyApprovedReply,
  approvalRecordedReply,
  cancelledReply,
  deniedReply,
  grantedReply,
  requestFiledReply,
  reviewedReply,
  revokedReply,
} from '../views/replies.js';

/** What the person who acted is told, from what changed. */
export function replyTo(outcome: Outcome): string {
  const { request, resource } = outcome;
  switch (outcome.change) {
    case 'filed':
      return requestFiledReply(request, resource?.approvalChannel);
    case 'granted':
      return grantedReply(request);
    case 'approved':
      return approvalRecordedReply(request);
    case 'already-approved':
      return alreadyApprovedReply(request);
    case 'denied':
      return deniedReply(request);
    case 'cancelled':
      return cancelledReply(request);
    case 'revoked':
      return revokedReply(request, false);
    case 'already-revoked':
      return revokedReply(request, true);
    case 'reviewed':
      return reviewedReply(request);
    case 'already-reviewed':
      return reviewedReply(request, true);
    case 'expired':
    case 'unchanged':
      return '';
  }
}
