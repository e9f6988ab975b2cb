import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../../shared/duration.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import type { RedeemAttempt } from '../../shared/jobs/notifier.js';
import type { Resource } from '../../shared/policy/types.js';
import { OPEN_LINK_ACTION_ID, type SlackMessage } from './actions.js';
import { context, header, linkButton, section } from './blocks.js';
import { dateToken, escapeText, mention, resourceRole, timeLeft } from './mrkdwn.js';
import {
  cappedNote,
  decideButtons,
  flagLines,
  pendingContext,
  requesterLine,
  requestFields,
  reviewButtons,
} from './request-summary.js';

/**
 * Direct messages. None of them ever carries a token: a grant is handed over as a one-time redeem
 * link, which the authorizer exchanges for a cookie (browser) or a token (command line).
 */

/**
 * To the requester when access is granted (or an extension approved): the one-time redeem link as a
 * button, and the command-line form that returns a token instead of a cookie. With sign-in on
 * (`signIn`), the button opens the resource's plain URL when a browser can open it (`openUrl`; the
 * holder signs in there), and the redeem link is for the command line only, to be opened in a
 * browser signed in as the holder, where it shows the token once.
 */
export function grantedDm(
  request: AccessRequest,
  redeemUrl: string,
  signIn?: { openUrl: string | undefined },
): SlackMessage & { unfurl_links: false; unfurl_media: false } {
  if (signIn !== undefined) return signedInGrantedDm(request, redeemUrl, signIn.openUrl);
  const what = escapeText(resourceRole(request));
  const until = request.expiresAt !== undefined ? ` until ${dateToken(request.expiresAt)}` : '';
  const extended = request.kind === 'extension';
  const title = extended
    ? `:white_check_mark: Your access to *${what}* was extended${until}${cappedNote(request)}.`
    : `:white_check_mark: You have access to *${what}*${until} (${formatDuration(request.durationMs)}).`;
  const blocks: KnownBlock[] = [
    section(title, linkButton(`Open ${truncateName(request.resource)}`, OPEN_LINK_ACTION_ID, redeemUrl)),
    context(':link: The link is *single use, valid 10 minutes*. It signs this browser in; do not share it.'),
    section(
      'From the command line, the same link gives you a bearer token instead:\n' +
        '```curl -H "Accept: application/json" \'' +
        escapeText(redeemUrl) +
        "'```",
    ),
  ];
  if (request.grantId)
    blocks.push(
      context(`Grant \`${request.grantId}\` · end it early with \`/access revoke ${request.grantId}\``),
    );
  const text = extended
    ? `Your access to ${what} was extended${until}${cappedNote(request)}.`
    : `You have access to ${what}${until}. Open the link in this message within 10 minutes.`;
  // A link preview fetched by Slack would spend the one-time code before its owner could.
  return { text, blocks, unfurl_links: false, unfurl_media: false };
}

/**
 * To a grant's holder when someone else, signed in at the authorizer, opened their redeem link: it
 * was refused and nothing was used, so the link still works for them; if they did not pass it on,
 * someone has it who should not.
 */
export function redeemRefusedDm(request: AccessRequest, attempt: RedeemAttempt): SlackMessage {
  const what = escapeText(resourceRole(request));
  const from = attempt.client ? ` from ${escapeText(attempt.client)}` : '';
  const text = `Someone else opened your link for ${what}: ${escapeText(attempt.openedBy)}${from}. It was refused and nothing was used.`;
  const blocks: KnownBlock[] = [
    section(`:warning: ${text}`),
    section(
      'Your link still works for you. If you did not pass it on, someone has it who should not: ' +
        (request.grantId
          ? `end the grant with \`/access revoke ${request.grantId}\` and ask again.`
          : 'tell your security team.'),
    ),
  ];
  if (request.grantId) blocks.push(context(`Grant \`${request.grantId}\``));
  return { text, blocks };
}

/**
 * grantedDm with sign-in on: open the plain URL (when a browser can); the redeem link is for the
 * command line, and only the holder's: a curl of it has no session and is refused, so it is opened in
 * the holder's browser, signed in, which shows the token once (the authorizer's `for=command-line`).
 */
function signedInGrantedDm(
  request: AccessRequest,
  redeemUrl: string,
  openUrl: string | undefined,
): SlackMessage & { unfurl_links: false; unfurl_media: false } {
  const what = escapeText(resourceRole(request));
  const until = request.expiresAt !== undefined ? ` until ${dateToken(request.expiresAt)}` : '';
  const title =
    request.kind === 'extension'
      ? `:white_check_mark: Your access to *${what}* was extended${until}${cappedNote(request)}.`
      : `:white_check_mark: You have access to *${what}*${until} (${formatDuration(request.durationMs)}).`;
  const tokenUrl = commandLineLink(redeemUrl);
  const getToken =
    'open this one-time link in a browser *signed in as yourself*: it shows your bearer token once, ' +
    'with the commands that use it (single use, valid 10 minutes, yours only; a curl of the link is refused):\n' +
    escapeText(tokenUrl);
  const blocks: KnownBlock[] =
    openUrl !== undefined
      ? [
          section(
            `${title}\nOpen ${escapeText(openUrl)} and sign in as yourself: nothing else is needed.`,
            linkButton(`Open ${truncateName(request.resource)}`, OPEN_LINK_ACTION_ID, openUrl),
          ),
          section(`For the command line, ${getToken}`),
        ]
      : [
          section(
            `${title}\n${escapeText(request.resource)} is reached from the command line with a bearer token. To get it, ${getToken}`,
            linkButton('Get the token', OPEN_LINK_ACTION_ID, tokenUrl),
          ),
        ];
  if (request.grantId)
    blocks.push(
      context(`Grant \`${request.grantId}\` · end it early with \`/access revoke ${request.grantId}\``),
    );
  const lead = `${request.kind === 'extension' ? 'Your access to' : 'You have access to'} ${what}${until}`;
  const text =
    openUrl !== undefined
      ? `${lead}: open ${openUrl}`
      : `${lead}. Open the link in this message, signed in as yourself, within 10 minutes.`;
  return { text, blocks, unfurl_links: false, unfurl_media: false };
}

/** The redeem link that, opened in the holder's signed-in browser, shows the token instead of setting a cookie. */
function commandLineLink(redeemUrl: string): string {
  const url = new URL(redeemUrl);
  url.searchParams.set('for', 'command-line');
  return url.href;
}

/** To the requester when an approver says no. */
export function deniedDm(request: AccessRequest): SlackMessage {
  const what = escapeText(resourceRole(request));
  const reason = request.denyReason ? `\n>${escapeText(request.denyReason)}` : '';
  const text = `Your request for ${what} was denied by ${mention(request.decidedBy)}.`;
  return { text, blocks: [section(`:x: ${text}${reason}`), context(`Request \`${request.id}\``)] };
}

/** To the requester when nobody decided in time. */
export function requestExpiredDm(request: AccessRequest): SlackMessage {
  const what = escapeText(resourceRole(request));
  const waited = formatDuration(request.pendingUntil - request.createdAt);
  const again = `/access ${resourceRole(request)} ${formatDuration(request.durationMs)} ${request.reason}`;
  const text = `Your request for ${what} expired: no approver decided within ${waited}.`;
  return {
    text,
    blocks: [
      section(`:hourglass_flowing_sand: ${text}`),
      section(`To ask again:\n\`\`\`${escapeText(again)}\`\`\``),
      context(`Request \`${request.id}\``),
    ],
  };
}

/** To the holder shortly before the grant ends, with the command that asks for more time. */
export function expiringSoonDm(request: AccessRequest, now: number): SlackMessage {
  const what = escapeText(resourceRole(request));
  const expiresAt = request.expiresAt ?? now;
  const left = timeLeft(expiresAt - now);
  const text = `Your access to ${what} ends in ${left}.`;
  const extend = request.grantId
    ? `/access extend ${request.grantId} 1h <reason>`
    : '/access extend <grant-id> 1h <reason>';
  return {
    text,
    blocks: [
      section(`:alarm_clock: Your access to *${what}* ends in *${left}* (${dateToken(expiresAt)}).`),
      section(`Need more time? Ask with:\n\`\`\`${escapeText(extend)}\`\`\``),
    ],
  };
}

/** To the holder when the grant has ended: expired, or revoked (by whom). */
export function grantEndedDm(request: AccessRequest): SlackMessage {
  const what = escapeText(resourceRole(request));
  const at = request.endedAt ?? request.expiresAt;
  const when = at !== undefined ? ` ${dateToken(at)}` : '';
  let text: string;
  if (request.grantStatus === 'revoked') {
    const by = request.endedBy === request.requester ? 'you' : mention(request.endedBy);
    text = `Your access to ${what} was revoked by ${by}.`;
  } else {
    text = `Your access to ${what} has expired.`;
  }
  const again = `/access ${resourceRole(request)} ${formatDuration(request.durationMs)} <reason>`;
  return {
    text,
    blocks: [
      section(
        `${request.grantStatus === 'revoked' ? ':no_entry:' : ':hourglass:'} ${text}${when ? ` (${when.trim()})` : ''}`,
      ),
      context(`Need it again? \`${escapeText(again)}\``),
    ],
  };
}

/** To an approver when a request has waited `nudgeAfter`: the request with the same Approve / Deny buttons. */
export function nudgeDm(request: AccessRequest, resource: Resource | undefined): SlackMessage {
  const what = escapeText(resourceRole(request));
  const flags = flagLines(request);
  const blocks: KnownBlock[] = [
    section(`:wave: A request is waiting for you: ${requesterLine(request)} asks for *${what}*.`),
    requestFields(request, resource),
  ];
  if (flags.length > 0) blocks.push(context(...flags));
  blocks.push(pendingContext(request), decideButtons(request), context(`Request \`${request.id}\``));
  return { text: `${mention(request.requester)} is waiting for your approval of ${what}.`, blocks };
}

/**
 * To an approver who has had their hourly share of nudge DMs: one note that more wait, instead of
 * a DM for each.
 */
export function nudgesPausedDm(channel: string, perHour: number): SlackMessage {
  const text =
    `:hourglass: More requests await your decision than jitgate nudges you about in an hour (${perHour}): ` +
    `the rest are in <#${channel}> and on jitgate's App Home. No more nudges this hour.`;
  return { text, blocks: [section(text)] };
}

/** For an escalation approver: a request nobody decided in time, with its buttons. */
export function escalationDm(request: AccessRequest, resource: Resource | undefined): SlackMessage {
  const what = escapeText(resourceRole(request));
  const waited =
    request.escalatedAt !== undefined
      ? ` for ${formatDuration(request.escalatedAt - request.createdAt)}`
      : '';
  const blocks: KnownBlock[] = [
    section(
      `:arrow_double_up: *Escalated to you:* ${requesterLine(request)} asks for *${what}*, undecided${waited}. You may approve or deny it.`,
    ),
    requestFields(request, resource),
  ];
  const flags = flagLines(request);
  if (flags.length > 0) blocks.push(context(...flags));
  blocks.push(pendingContext(request), decideButtons(request), context(`Request \`${request.id}\``));
  return { text: `Escalated: ${mention(request.requester)} is waiting for approval of ${what}.`, blocks };
}

/**
 * For an approver (or admin) of a break-glass grant nobody has reviewed yet: what was taken, by whom,
 * why, and Justified / Flag. `reminder` says how long it has waited.
 */
export function reviewDm(request: AccessRequest, now: number, reminder = false): SlackMessage {
  const what = escapeText(resourceRole(request));
  const waited =
    request.issuedAt !== undefined ? ` ${formatDuration(Math.max(0, now - request.issuedAt))} ago` : '';
  const head = reminder
    ? `:mag: *Still unreviewed:* ${requesterLine(request)} broke glass for *${what}*${waited}. Was it justified?`
    : `:mag: *Review needed:* ${requesterLine(request)} broke glass for *${what}*. Was it justified?`;
  const blocks: KnownBlock[] = [section(`${head}\n>${escapeText(request.reason)}`)];
  const buttons = reviewButtons(request);
  if (buttons) blocks.push(buttons);
  blocks.push(
    context(`Request \`${request.id}\`${request.grantId ? ` · grant \`${request.grantId}\`` : ''}`),
  );
  return { text: `Review needed: ${mention(request.requester)} broke glass for ${what}.`, blocks };
}

/** For the approval channel when someone breaks glass: loud, and a reminder that it must be reviewed. */
export function breakGlassAlert(request: AccessRequest): SlackMessage {
  const review = request.review ? undefined : reviewButtons(request);
  const what = escapeText(resourceRole(request));
  const text = `:rotating_light: Break-glass: ${mention(request.requester)} took ${what} without approval. Review after.`;
  const until = request.expiresAt !== undefined ? ` until ${dateToken(request.expiresAt)}` : '';
  return {
    text,
    blocks: [
      header(`🚨 Break-glass access to ${resourceRole(request)}`),
      section(
        `${requesterLine(request)} took *${what}*${until}, without approval.\n>${escapeText(request.reason)}`,
      ),
      section(
        '*Review after:* an approver of this resource should check why it was needed and what was done, ' +
          'then say it was *Justified* or *Flag* it (and revoke it on the message above if it should not stand).',
      ),
      ...(review ? [review] : []),
      context(`Request \`${request.id}\`${request.grantId ? ` · grant \`${request.grantId}\`` : ''}`),
    ],
  };
}

function truncateName(name: string): string {
  return name.length > 60 ? `${name.slice(0, 59)}…` : name;
}
