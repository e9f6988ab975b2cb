import type { ActionsBlock, KnownBlock } from '@slack/types';
import { formatDuration } from '../../shared/duration.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import type { Resource } from '../../shared/policy/types.js';
import { ACTION_IDS } from './actions.js';
import { actions, button, context, fields } from './blocks.js';
import { dateToken, escapeText, mention, mentionList, resourceRole } from './mrkdwn.js';

/** The pieces of a request that the approval message, the approvers' nudge and App Home share. */

/** "<@U0ALICE> (alice@example.com)" */
export function requesterLine(request: AccessRequest): string {
  return request.email
    ? `${mention(request.requester)} (${escapeText(request.email)})`
    : mention(request.requester);
}

/** Resource (with its description), role, duration, reason. */
export function requestFields(request: AccessRequest, resource: Resource | undefined): KnownBlock {
  const name = `*${escapeText(request.resource)}*`;
  const described = resource?.description ? `${name}: ${escapeText(resource.description)}` : name;
  return fields([
    ['Resource', described],
    ['Role', escapeText(request.role)],
    [request.kind === 'extension' ? 'Extra time' : 'Duration', formatDuration(request.durationMs)],
    ['Reason', escapeText(request.reason)],
  ]);
}

/** The flags an approver must not miss: break-glass, an extension of an existing grant, an escalation. */
export function flagLines(request: AccessRequest): string[] {
  const flags: string[] = [];
  if (request.breakGlass) flags.push(':rotating_light: *break-glass*: granted at once, to be reviewed after');
  if (request.kind === 'extension' && request.extendsGrant) {
    flags.push(`:repeat: *extension* of grant \`${request.extendsGrant}\``);
  }
  if (request.escalatedAt !== undefined && request.escalateTo) {
    const to = [
      ...request.escalateTo.users.map(mention),
      ...request.escalateTo.usergroups.filter((g) => /^S[A-Z0-9]+$/.test(g)).map((g) => `<!subteam^${g}>`),
    ];
    flags.push(
      `:arrow_double_up: *escalated* to ${to.join(', ')} after ${formatDuration(request.escalatedAt - request.createdAt)} without a decision`,
    );
  }
  return flags;
}

/** "1 of 2: <@U0BOB>" or "0 of 1". */
export function approvalsProgress(request: AccessRequest): string {
  const so = `${request.approvals.length} of ${request.approvalsRequired}`;
  return request.approvals.length > 0 ? `${so}: ${mentionList(request.approvals)}` : so;
}

/** Approvals so far and the deadline, for a pending request. */
export function pendingContext(request: AccessRequest): KnownBlock {
  return context(
    `:busts_in_silhouette: Approvals ${approvalsProgress(request)}`,
    `:alarm_clock: Decide by ${dateToken(request.pendingUntil)}`,
  );
}

/** Justified / Flag on a break-glass grant, each carrying the grant id. */
export function reviewButtons(request: AccessRequest, blockId?: string): ActionsBlock | undefined {
  if (!request.grantId) return undefined;
  return actions(
    blockId,
    button('Justified', ACTION_IDS.reviewOk, request.grantId, { style: 'primary' }),
    button('Flag', ACTION_IDS.reviewFlag, request.grantId, { style: 'danger' }),
  );
}

/** A break-glass grant's review as a line: who said what, when, with the note; or that it waits. */
export function reviewLine(request: AccessRequest): string {
  const review = request.review;
  if (!review) return ':mag: *Review:* nobody has reviewed this break-glass grant yet.';
  const note = review.note ? `\n>${escapeText(review.note)}` : '';
  return review.verdict === 'justified'
    ? `:white_check_mark: *Reviewed: justified* by ${mention(review.by)} · ${dateToken(review.at)}${note}`
    : `:triangular_flag_on_post: *Reviewed: flagged* by ${mention(review.by)} · ${dateToken(review.at)}${note}`;
}

/** Approve / Deny, each carrying the request id. */
export function decideButtons(request: AccessRequest, blockId?: string): ActionsBlock {
  return actions(
    blockId,
    button('Approve', ACTION_IDS.approve, request.id, { style: 'primary' }),
    button('Deny', ACTION_IDS.deny, request.id, { style: 'danger' }),
  );
}

/** One line: "<@U> asks for *grafana/viewer* for 2h: reason". */
export function oneLine(request: AccessRequest): string {
  const what = `*${escapeText(resourceRole(request))}*`;
  const verb =
    request.kind === 'extension'
      ? `asks to extend ${what} by ${formatDuration(request.durationMs)}`
      : `asks for ${what} for ${formatDuration(request.durationMs)}`;
  return `${mention(request.requester)} ${verb}: ${escapeText(request.reason)}`;
}

/**
 * For an extension capped when it was approved (the grant may never have more than the resource's
 * maxDuration left): what it added instead of what was asked for; '' otherwise.
 *
 * @example cappedNote(extension) // ' (capped at the resource's maximum: 45m added, not the 2h asked for)'
 */
export function cappedNote(request: AccessRequest): string {
  if (request.kind !== 'extension' || !request.capped || request.addedMs === undefined) return '';
  return ` (capped at the resource's maximum: ${formatDuration(request.addedMs)} added, not the ${formatDuration(request.durationMs)} asked for)`;
}
