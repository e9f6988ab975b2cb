import type { HomeView, KnownBlock } from '@slack/types';
import { formatDuration } from '../../shared/duration.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import { ACTION_IDS } from './actions.js';
import { button, context, divider, header, section } from './blocks.js';
import { dateToken, escapeText, resourceRole, timeLeft } from './mrkdwn.js';
import { approvalsProgress, decideButtons, oneLine, reviewButtons } from './request-summary.js';

/** What App Home shows one person; the listener gathers it with `AccessService.list` and `.awaiting`. */
export interface HomeData {
  grants: readonly AccessRequest[];
  pending: readonly AccessRequest[];
  /** Requests this person may decide (empty for someone who approves nothing). */
  awaiting: readonly AccessRequest[];
  /** Break-glass grants this person may review that nobody has reviewed yet (absent or empty: none). */
  toReview?: readonly AccessRequest[] | undefined;
}

/** Slack allows 100 blocks in a view; each list is capped well below that. */
const MAX_ITEMS = 15;

/**
 * The App Home tab: the person's active grants (time left, expiry, Revoke), their pending requests
 * (Cancel), and for approvers the requests waiting for them (Approve / Deny). Re-published on
 * `app_home_opened` and after changes, so relative times are fresh enough.
 */
export function homeView(data: HomeData, now: number): HomeView {
  const blocks: KnownBlock[] = [header('Your access'), ...grantBlocks(data.grants, now)];
  blocks.push(divider(), header('Your pending requests'), ...pendingBlocks(data.pending));
  if (data.awaiting.length > 0) {
    blocks.push(
      divider(),
      header(`Waiting for you (${data.awaiting.length})`),
      ...awaitingBlocks(data.awaiting),
    );
  }
  if (data.toReview && data.toReview.length > 0) {
    blocks.push(
      divider(),
      header(`Break-glass to review (${data.toReview.length})`),
      ...reviewBlocks(data.toReview, now),
    );
  }
  blocks.push(
    divider(),
    context(
      'Type `/access` to ask for access, `/access list` for this list in any channel, `/access help` for every form.',
      `Updated ${dateToken(now, '{date_short_pretty} at {time}')}`,
    ),
  );
  return { type: 'home', blocks };
}

function grantBlocks(grants: readonly AccessRequest[], now: number): KnownBlock[] {
  if (grants.length === 0) {
    return [
      section(
        'You have no active access. Type `/access` to ask for access, e.g. `/access grafana 1h INC-123`.',
      ),
    ];
  }
  const blocks = grants.slice(0, MAX_ITEMS).map((g) => {
    const expiresAt = g.expiresAt ?? now;
    const text = `*${escapeText(resourceRole(g))}*: ${timeLeft(expiresAt - now)} left, until ${dateToken(expiresAt)}\n\`${g.grantId ?? ''}\``;
    const revoke = g.grantId
      ? button('Revoke', ACTION_IDS.revoke, g.grantId, {
          style: 'danger',
          confirm: [
            'End this access now?',
            `You lose access to *${escapeText(resourceRole(g))}* at once.`,
            'Revoke',
          ],
        })
      : undefined;
    return section(text, revoke);
  });
  return withMore(blocks, grants.length);
}

function pendingBlocks(pending: readonly AccessRequest[]): KnownBlock[] {
  if (pending.length === 0) return [section('No requests waiting for a decision.')];
  const blocks = pending.slice(0, MAX_ITEMS).map((r) => {
    const what =
      r.kind === 'extension'
        ? `${formatDuration(r.durationMs)} more on`
        : `${formatDuration(r.durationMs)} of`;
    const text =
      `${what} *${escapeText(resourceRole(r))}*: ${escapeText(r.reason)}\n` +
      `Approvals ${approvalsProgress(r)} · expires undecided ${dateToken(r.pendingUntil)}`;
    return section(text, button('Cancel', ACTION_IDS.cancel, r.id));
  });
  return withMore(blocks, pending.length);
}

function awaitingBlocks(awaiting: readonly AccessRequest[]): KnownBlock[] {
  const blocks = awaiting
    .slice(0, MAX_ITEMS)
    .flatMap((r): KnownBlock[] => [
      section(`${r.breakGlass ? ':rotating_light: ' : ''}${oneLine(r)}`),
      context(`Approvals ${approvalsProgress(r)}`, `Decide by ${dateToken(r.pendingUntil)}`),
      decideButtons(r, `jit_home_decide_${r.id}`),
    ]);
  return withMore(blocks, awaiting.length);
}

function reviewBlocks(grants: readonly AccessRequest[], now: number): KnownBlock[] {
  const blocks = grants.slice(0, MAX_ITEMS).flatMap((r): KnownBlock[] => {
    const buttons = reviewButtons(r, `jit_home_review_${r.id}`);
    const when = r.issuedAt !== undefined ? `Broke glass ${dateToken(r.issuedAt)}` : 'Broke glass';
    const state =
      r.grantStatus === 'active' && (r.expiresAt ?? 0) > now ? 'still active' : (r.grantStatus ?? 'ended');
    return [
      section(`:rotating_light: ${oneLine(r)}`),
      context(when, `Grant \`${r.grantId ?? ''}\` · ${state}`),
      ...(buttons ? [buttons] : []),
    ];
  });
  return withMore(blocks, grants.length);
}

function withMore(blocks: KnownBlock[], total: number): KnownBlock[] {
  return total > MAX_ITEMS
    ? [...blocks, context(`…and ${total - MAX_ITEMS} more. \`/access list\` shows them all.`)]
    : blocks;
}
