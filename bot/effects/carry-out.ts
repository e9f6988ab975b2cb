import type { Effect } from '../../shared/access/effects.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import type { SlackUserId } from '../../shared/ids.js';
import { PermanentFailure } from '../../shared/jobs/notifier.js';
import { approversOf } from '../../shared/policy/index.js';
import { sendDm } from '../slack/dm.js';
import { claimNudges, NUDGES_PER_APPROVER_PER_HOUR, releaseNudges } from '../slack/nudge-budget.js';
import { isPermanentSlackError } from '../slack/slack-errors.js';
import { databaseGrantedDm } from '../views/database-dm.js';
import {
  breakGlassAlert,
  deniedDm,
  escalationDm,
  expiringSoonDm,
  grantEndedDm,
  grantedDm,
  nudgeDm,
  nudgesPausedDm,
  requestExpiredDm,
  reviewDm,
} from '../views/dm.js';
import type { EffectDeps } from './deps.js';

/**
 * Carries out one effect in Slack, rendered from `request` (the request the effect names, as it now
 * stands). Throws when Slack fails, a PermanentFailure when retrying cannot help: the worker retries
 * the rest, the listeners decide per effect what a failure means (bot/effects/apply.ts).
 *
 * @example await carryOut(deps, { type: 'tell-denied', requestId, to }, request);
 */
export async function carryOut(deps: EffectDeps, effect: Effect, request: AccessRequest): Promise<void> {
  const { client, messages } = deps;
  switch (effect.type) {
    case 'post-approval-message':
      await messages.post(request);
      return;
    case 'update-approval-message':
      await messages.refresh(request);
      return;
    case 'announce-break-glass':
      await client.chat.postMessage({
        channel: effect.channel,
        ...breakGlassAlert(request),
        unfurl_links: false,
      });
      return;
    case 'send-redeem-link': {
      // Delivered through the queue, the effect carries no link: one is made now, just before the DM.
      if (!effect.redeemUrl && !deps.access) throw new PermanentFailure('no way to make a redeem link here');
      const link = effect.redeemUrl ?? (await deps.access!.redeemLink(effect.grantId));
      if (deps.policy().resources.get(request.resource)?.kind === 'postgres') {
        return sendDm(client, effect.to, databaseGrantedDm(request, link, deps.openUrl !== undefined));
      }
      return sendDm(
        client,
        effect.to,
        grantedDm(request, link, deps.openUrl ? { openUrl: deps.openUrl(request.resource) } : undefined),
      );
    }
    case 'tell-denied':
      return sendDm(client, effect.to, deniedDm(request));
    case 'tell-request-expired':
      return sendDm(client, effect.to, requestExpiredDm(request));
    case 'tell-grant-ended':
      return sendDm(client, effect.to, grantEndedDm(request));
    case 'remind-expiring':
      return sendDm(client, effect.to, expiringSoonDm(request, deps.clock.now()));
    case 'nudge-approvers':
      return nudgeApprovers(deps, request);
    case 'escalate-to':
      return escalateTo(deps, request);
    case 'ask-review':
      return askReview(deps, request, effect.reminder);
    case 'refresh-homes':
      // Coalesced and published shortly after (bot/effects/homes.ts): never waited for, never fails.
      deps.homes?.refresh(effect.users);
      return;
  }
}

/**
 * DMs every approver who has not approved yet (never the requester) the request with its buttons,
 * each once per request and within their hourly bound (claimNudges). One approver Slack cannot
 * reach does not stop the others; it fails (to be retried) only when nobody could be reached for a
 * reason that may pass.
 */
async function nudgeApprovers(deps: EffectDeps, request: AccessRequest): Promise<void> {
  const { policy, usergroups, log } = deps;
  const resource = policy().resources.get(request.resource);
  if (!resource) {
    log.warn(
      { requestId: request.id, resource: request.resource },
      'nudge: resource no longer in the policy',
    );
    return;
  }
  const waiting = [...(await approversOf(resource, usergroups))].filter(
    (user) => user !== request.requester && !request.approvals.includes(user),
  );
  const { store } = deps;
  const { nudge: approvers, overflowing } = store
    ? await claimNudges(store.redis, store.keys, request.id, waiting, deps.clock.now())
    : { nudge: waiting, overflowing: [] };
  if (overflowing.length > 0) {
    // Past their hourly share: one note instead of more DMs (best effort; the requests still wait).
    const note = nudgesPausedDm(resource.approvalChannel, NUDGES_PER_APPROVER_PER_HOUR);
    await Promise.allSettled(overflowing.map((user) => sendDm(deps.client, user, note)));
  }
  if (approvers.length < waiting.length) {
    log.info(
      { requestId: request.id, skipped: waiting.length - approvers.length },
      'nudge: some approvers were nudged about it already, or had their hourly share of nudges',
    );
  }
  const failed = await sendEach(deps, request, approvers, nudgeDm(request, resource), 'nudge');
  if (store && failed.length > 0) {
    await releaseNudges(
      store.redis,
      store.keys,
      request.id,
      failed.map((f) => f.user),
    ).catch((err: unknown) => log.warn({ err }, 'nudge: could not give back the failed nudges'));
  }
  throwIfNobodyReached(approvers, failed);
}

/** DMs an escalated request's escalateTo people (as fixed when it was filed) the request with its buttons. */
async function escalateTo(deps: EffectDeps, request: AccessRequest): Promise<void> {
  if (!request.escalateTo) return;
  const { usergroups, policy } = deps;
  const members = await Promise.all(request.escalateTo.usergroups.map((group) => usergroups(group)));
  const people = [...new Set<SlackUserId>([...request.escalateTo.users, ...members.flat()])].filter(
    (user) => user !== request.requester && !request.approvals.includes(user),
  );
  const message = escalationDm(request, policy().resources.get(request.resource));
  throwIfNobodyReached(people, await sendEach(deps, request, people, message, 'escalation'));
}

/**
 * DMs the approvers of a break-glass grant's resource (the admins when the policy no longer has it)
 * that it needs a review, never the holder; nothing once someone has reviewed it.
 */
async function askReview(deps: EffectDeps, request: AccessRequest, reminder: boolean): Promise<void> {
  if (request.review || !request.grantId) return;
  const { policy, usergroups } = deps;
  const resource = policy().resources.get(request.resource);
  const people = resource
    ? await approversOf(resource, usergroups)
    : await membersOf(policy().admins, usergroups);
  const to = [...people].filter((user) => user !== request.requester);
  const message = reviewDm(request, deps.clock.now(), reminder);
  throwIfNobodyReached(to, await sendEach(deps, request, to, message, 'review'));
}

async function membersOf(
  people: { users: SlackUserId[]; usergroups: string[] },
  usergroups: EffectDeps['usergroups'],
): Promise<Set<SlackUserId>> {
  const members = await Promise.all(people.usergroups.map((group) => usergroups(group)));
  return new Set([...people.users, ...members.flat()]);
}

interface Unreached {
  user: SlackUserId;
  err: unknown;
}

/** Sends `message` to each of `to`; one person Slack cannot reach does not stop the others. Answers who was not reached. */
async function sendEach(
  deps: EffectDeps,
  request: AccessRequest,
  to: SlackUserId[],
  message: Parameters<typeof sendDm>[2],
  what: string,
): Promise<Unreached[]> {
  const results = await Promise.allSettled(to.map((user) => sendDm(deps.client, user, message)));
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [{ user: to[i]!, err: r.reason }] : [],
  );
  for (const { user, err } of failed)
    deps.log.warn({ err, user, requestId: request.id }, `${what}: could not DM an approver`);
  return failed;
}

/** Fails (to be retried) only when nobody could be reached, for a reason that may pass. */
function throwIfNobodyReached(to: SlackUserId[], failed: Unreached[]): void {
  const retryable = failed.filter(({ err }) => !isPermanentSlackError(err));
  if (to.length > 0 && retryable.length > 0 && retryable.length === to.length) throw retryable[0]!.err;
}
