import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../../shared/duration.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import type { Resource } from '../../shared/policy/types.js';
import { ACTION_IDS, type SlackMessage } from './actions.js';
import { button, context, section } from './blocks.js';
import { dateToken, escapeText, mention, mentionList, resourceRole } from './mrkdwn.js';
import {
  approvalsProgress,
  cappedNote,
  decideButtons,
  flagLines,
  pendingContext,
  requesterLine,
  requestFields,
  reviewButtons,
  reviewLine,
} from './request-summary.js';

/**
 * The one living message for a request in its approval channel (an extension's lives in the
 * original message's thread). While pending it carries Approve / Deny; once decided the buttons give
 * way to the outcome, and for a grant its expiry with a Revoke button while it is active. It is
 * re-rendered from the request on every change, so it is a pure function of the request and `now`.
 *
 * @example await client.chat.update({ channel, ts, ...approvalMessage(request, resource, clock.now()) });
 */
export function approvalMessage(
  request: AccessRequest,
  resource: Resource | undefined,
  now: number,
): SlackMessage {
  const title =
    request.kind === 'extension'
      ? `:repeat: ${requesterLine(request)} asks for more time on *${escapeText(resourceRole(request))}*`
      : `:key: ${requesterLine(request)} asks for access to *${escapeText(resourceRole(request))}*`;
  const flags = flagLines(request);
  const blocks: KnownBlock[] = [section(title), requestFields(request, resource)];
  if (flags.length > 0) blocks.push(context(...flags));
  if (request.status === 'pending') {
    blocks.push(pendingContext(request), decideButtons(request));
  } else {
    blocks.push(...outcomeBlocks(request, now));
  }
  blocks.push(context(`Request \`${request.id}\``));
  return { text: fallbackText(request, now), blocks };
}

function outcomeBlocks(request: AccessRequest, now: number): KnownBlock[] {
  const when = request.decidedAt !== undefined ? ` · ${dateToken(request.decidedAt)}` : '';
  switch (request.status) {
    case 'approved':
      return [
        section(`${approvedLine(request)}${when}`),
        ...grantBlocks(request, now),
        ...reviewBlocks(request),
      ];
    case 'denied': {
      const reason = request.denyReason ? `\n>${escapeText(request.denyReason)}` : '';
      return [section(`:x: *Denied* by ${mention(request.decidedBy)}${when}${reason}`)];
    }
    case 'cancelled':
      return [
        section(
          `:heavy_multiplication_x: *Cancelled* by ${mention(request.decidedBy ?? request.requester)}${when}`,
        ),
      ];
    case 'expired':
      return [
        section(
          `:hourglass_flowing_sand: *Expired undecided*${when}: no decision within ${formatDuration(request.pendingUntil - request.createdAt)}.`,
        ),
      ];
    case 'pending':
      return [];
  }
}

/** A break-glass grant's review: its state, and Justified / Flag until someone has reviewed it. */
function reviewBlocks(request: AccessRequest): KnownBlock[] {
  if (!request.breakGlass || request.kind !== 'access') return [];
  const buttons = request.review ? undefined : reviewButtons(request);
  return [section(reviewLine(request)), ...(buttons ? [buttons] : [])];
}

function approvedLine(request: AccessRequest): string {
  if (request.breakGlass)
    return `:rotating_light: *Granted at once (break-glass)* by ${mention(request.decidedBy)}`;
  if (request.decidedBy === 'jitgate' && request.approvals.length === 0) {
    return ':white_check_mark: *Approved automatically* (auto-approve in the policy)';
  }
  const approvers = request.approvals.length > 0 ? request.approvals : [request.decidedBy ?? 'jitgate'];
  const confirmed = request.steppedUp ? ' (confirmed in the browser with a fresh sign-in)' : '';
  return `:white_check_mark: *Approved* by ${mentionList(approvers)}${confirmed}`;
}

/** The grant's state: active (expiry + Revoke), revoked, expired. */
function grantBlocks(request: AccessRequest, now: number): KnownBlock[] {
  if (request.expiresAt === undefined) return [];
  if (request.kind === 'extension') {
    // The grant itself (and its Revoke button) lives on the original message.
    return [section(`:clock3: The grant now ends ${dateToken(request.expiresAt)}${cappedNote(request)}.`)];
  }
  const status =
    request.grantStatus === 'active' && request.expiresAt <= now ? 'expired' : request.grantStatus;
  switch (status) {
    case 'active': {
      const revoke = request.grantId
        ? button('Revoke', ACTION_IDS.revoke, request.grantId, {
            style: 'danger',
            confirm: [
              'Revoke this access?',
              `${mention(request.requester)} loses access to *${escapeText(resourceRole(request))}* at once.`,
              'Revoke',
            ],
          })
        : undefined;
      return [section(`:clock3: *Expires at* ${dateToken(request.expiresAt)}`, revoke)];
    }
    case 'revoked': {
      const at = request.endedAt !== undefined ? ` · ${dateToken(request.endedAt)}` : '';
      return [section(`:no_entry: *Revoked* by ${mention(request.endedBy)}${at}`)];
    }
    case 'expired':
      return [section(`:hourglass: *Expired at* ${dateToken(request.endedAt ?? request.expiresAt)}`)];
    default:
      return [];
  }
}

/** A plain-language summary for notifications and clients that cannot show blocks. */
function fallbackText(request: AccessRequest, now: number): string {
  const who = mention(request.requester);
  const what = escapeText(resourceRole(request));
  const asks =
    request.kind === 'extension'
      ? `${who} asks for ${formatDuration(request.durationMs)} more on ${what}`
      : `${who} asks for ${what} for ${formatDuration(request.durationMs)}`;
  switch (request.status) {
    case 'pending':
      return `${request.breakGlass ? 'Break-glass: ' : ''}${asks} (${escapeText(request.reason)}). Approvals ${approvalsProgress(request)}.`;
    case 'denied':
      return `${asks}: denied by ${mention(request.decidedBy)}.`;
    case 'cancelled':
      return `${asks}: cancelled.`;
    case 'expired':
      return `${asks}: expired with no decision.`;
    case 'approved': {
      const head = request.breakGlass ? `Break-glass: ${who} took ${what}` : `${asks}: approved`;
      if (request.expiresAt === undefined || request.kind === 'extension') return `${head}.`;
      if (request.grantStatus === 'revoked') return `${head}; revoked by ${mention(request.endedBy)}.`;
      if (request.grantStatus === 'expired' || request.expiresAt <= now) return `${head}; expired.`;
      return `${head}; expires at ${dateToken(request.expiresAt)}.`;
    }
  }
}
