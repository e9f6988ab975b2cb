import { formatDuration } from '../../shared/duration.js';
import { type ErrorCode, isJitgateError } from '../../shared/errors.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import { messageOf } from '../../shared/messages.js';
import type { Resource } from '../../shared/policy/types.js';
import { USAGE } from '../commands/registry.js';
import { dateToken, escapeText, mention, resourceRole, timeLeft } from './mrkdwn.js';
import { approvalsProgress } from './request-summary.js';

/** Ephemeral replies to `/access` and to clicks: short mrkdwn strings (`respond({ text })`). */

/** Inline code for a form: `<` and `>` are Slack's link syntax even inside backticks, so they are escaped. */
const code = (form: string) => `\`${escapeText(form)}\``;

/** `/access list`: active grants, then pending requests. */
export function listReply(
  data: { grants: readonly AccessRequest[]; pending: readonly AccessRequest[] },
  now: number,
): string {
  const lines: string[] = [];
  if (data.grants.length === 0) lines.push('*Active access:* none.');
  else {
    lines.push('*Active access:*');
    for (const g of data.grants) {
      const at = g.expiresAt ?? now;
      lines.push(
        `• *${escapeText(resourceRole(g))}*: ${timeLeft(at - now)} left (until ${dateToken(at)}), grant \`${g.grantId ?? '?'}\``,
      );
    }
  }
  if (data.pending.length === 0) lines.push('*Pending requests:* none.');
  else {
    lines.push('*Pending requests:*');
    for (const r of data.pending) {
      const what =
        r.kind === 'extension'
          ? `${formatDuration(r.durationMs)} more on`
          : `${formatDuration(r.durationMs)} of`;
      lines.push(
        `• ${what} *${escapeText(resourceRole(r))}*: approvals ${approvalsProgress(r)}, request \`${r.id}\``,
      );
    }
  }
  if (data.grants.length === 0 && data.pending.length === 0) lines.push('Type `/access` to ask for access.');
  return lines.join('\n');
}

/** Said by `/access resources` and the request form to someone the policy lets request nothing. */
export const NOTHING_TO_REQUEST =
  'There is nothing you may request. Ask an admin to add you as a requester in the policy.';

/** `/access resources`: what this person may request, with the limits. */
export function resourcesReply(resources: readonly Resource[]): string {
  if (resources.length === 0) return NOTHING_TO_REQUEST;
  const lines = ['*What you may request:*'];
  for (const r of resources) {
    const roles = r.roles
      .map((role, i) => (i === 0 ? `${escapeText(role.name)} (default)` : escapeText(role.name)))
      .join(', ');
    const approvals = r.approvalsRequired === 1 ? '1 approval' : `${r.approvalsRequired} approvals`;
    const extras = [
      r.breakGlass ? 'break-glass allowed' : '',
      r.selfApproval ? 'self-approval allowed' : '',
    ].filter(Boolean);
    lines.push(
      `• *${escapeText(r.name)}*${r.description ? `: ${escapeText(r.description)}` : ''}\n` +
        `   roles: ${roles} · default ${formatDuration(r.defaultDurationMs)}, max ${formatDuration(r.maxDurationMs)} · ${approvals}` +
        (extras.length > 0 ? ` · ${extras.join(', ')}` : ''),
    );
  }
  lines.push(
    `Ask with ${code(USAGE.request)}, e.g. \`/access ${escapeText(resources[0]!.name)} 1h INC-123\`.`,
  );
  return lines.join('\n');
}

/**
 * The form to show after an error with this code, unless the caller knows better. A function, not a
 * table: the registry's handlers reply through this module, so USAGE may not be ready while it loads.
 */
function formFor(code: ErrorCode): string | undefined {
  switch (code) {
    case 'duration_invalid':
    case 'duration_too_long':
    case 'no_such_resource':
    case 'no_such_role':
    case 'input_invalid':
      return USAGE.request;
    case 'not_allowed_to_request':
      return USAGE.resources;
    case 'no_such_grant':
    case 'grant_not_active':
      return USAGE.list;
    default:
      return undefined;
  }
}

/**
 * What to tell someone whose command or click failed. A JitgateError's message is written for them
 * (the catalogue in shared/messages.ts words each code once); the right form follows where it helps
 * (`usage` overrides it, e.g. the extend form for `/access extend`).
 * Anything else is a bug or an outage: say so, and that nothing was changed.
 */
export function errorReply(err: unknown, usage?: string): string {
  if (!isJitgateError(err)) {
    return ':warning: Something went wrong on jitgate’s side; nothing was changed. Try again in a moment, and tell the jitgate admins if it keeps happening.';
  }
  if (err.code === 'unavailable') return `:warning: ${escapeText(err.message)} Nothing was changed.`;
  const fieldUsage = typeof err.fields.usage === 'string' ? err.fields.usage : undefined;
  const form = usage ?? fieldUsage ?? formFor(err.code);
  const lines = [`:warning: ${escapeText(err.message)}`];
  if (form)
    lines.push(
      `Use \`${escapeText(form)}\`${form === USAGE.request ? ', e.g. `/access grafana/viewer 2h INC-123`' : ''}.`,
    );
  if (err.code === 'no_such_resource') lines.push('`/access resources` lists what you may request.');
  if (form === USAGE.request || err.code === 'input_invalid') lines.push('`/access help` shows every form.');
  return lines.join('\n');
}

/**
 * Bad `/access` input, answered in the ack: what was wrong and the form that works (the parser's
 * `{ error, usage }`), or, with no usage, that the command could not be read at all.
 */
export function badInputReply(bad: { error: string; usage: string } | undefined): string {
  if (!bad)
    return `:warning: ${escapeText(messageOf('input_invalid', { problem: 'unreadable', what: 'command' }))}`;
  return `:warning: ${escapeText(bad.error)}\nUse \`${escapeText(bad.usage)}\`. \`/access help\` shows every form.`;
}

/** After a request is filed and is waiting for approvers. */
export function requestFiledReply(request: AccessRequest, approvalChannel?: string): string {
  const where = approvalChannel ? ` in <#${approvalChannel}>` : '';
  const ask =
    request.kind === 'extension'
      ? `${formatDuration(request.durationMs)} more on`
      : `${formatDuration(request.durationMs)} of`;
  return (
    `:inbox_tray: Asked for ${ask} *${escapeText(resourceRole(request))}* (request \`${request.id}\`). ` +
    `The approvers have been asked${where} (${request.approvalsRequired} needed); you will get a DM when it is decided, ` +
    `or it expires undecided ${dateToken(request.pendingUntil)}. \`/access list\` shows it; cancel it from App Home.`
  );
}

/** After access was granted at once (auto-approval, break-glass) or an approval reached the threshold. */
export function grantedReply(request: AccessRequest): string {
  const until = request.expiresAt !== undefined ? ` until ${dateToken(request.expiresAt)}` : '';
  const how = request.breakGlass ? ' (break-glass: posted to the approvers for review)' : '';
  return `:white_check_mark: *${escapeText(resourceRole(request))}* granted${until}${how}. Your one-time link is in your DMs.`;
}

/** To an approver after their click: recorded, and what happens next. */
export function approvalRecordedReply(request: AccessRequest): string {
  if (request.status === 'approved') {
    return `:white_check_mark: Approved: ${mention(request.requester)} has *${escapeText(resourceRole(request))}*.`;
  }
  return `:ballot_box_with_check: Your approval is recorded (${approvalsProgress(request)}); waiting for more.`;
}

/** To an approver who had already approved this request. */
export function alreadyApprovedReply(request: AccessRequest): string {
  return `You have already approved this request (${approvalsProgress(request)}); one person counts once.`;
}

export function deniedReply(request: AccessRequest): string {
  return `:x: Denied ${mention(request.requester)}’s request for *${escapeText(resourceRole(request))}*. They have been told.`;
}

export function cancelledReply(request: AccessRequest): string {
  return `Cancelled your request for *${escapeText(resourceRole(request))}* (\`${request.id}\`).`;
}

/** After `/access revoke` or a Revoke click; `already` when it had been revoked before. */
/** Approve on a resource with approverStepUp: the link to confirm it with a fresh sign-in. */
export function stepUpReply(resource: Resource, url: string): string {
  return (
    `:lock: Approvals of *${escapeText(resource.name)}* count only once confirmed with a fresh sign-in. ` +
    `<${url}|Confirm your approval in the browser> (for you only, within 10 minutes). Nothing is approved until you do.`
  );
}

export function reviewedReply(request: AccessRequest, already = false): string {
  const what = `the break-glass grant of *${escapeText(resourceRole(request))}* to ${mention(request.requester)}`;
  if (already && request.review)
    return `${mention(request.review.by)} had already reviewed ${what} (${request.review.verdict}); the first review stands.`;
  return request.review?.verdict === 'flagged'
    ? `:triangular_flag_on_post: You flagged ${what}. It is in the audit log; revoke it on its message if it should not stand.`
    : `:white_check_mark: You marked ${what} as justified. It is in the audit log.`;
}

export function revokedReply(request: AccessRequest, already = false): string {
  const what = `*${escapeText(resourceRole(request))}* for ${mention(request.requester)}`;
  return already
    ? `That access (${what}) was already revoked.`
    : `:no_entry: Revoked ${what}, effective at once.`;
}
