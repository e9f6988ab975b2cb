import type { Outcome } from '../../shared/access/service.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import type { SlackUserId } from '../../shared/ids.js';
import type { BotDeps } from '../deps.js';
import { breakGlassAlert, deniedDm, grantEndedDm, grantedDm } from '../views/dm.js';
import { publishHomes } from './home.js';
import { dm } from './reply.js';

/**
 * What the people involved hear after a use case has run. The state is already saved: each effect
 * here is retried by the Web API client, and a message that still cannot be updated is handed to
 * the worker's queue, so a Slack hiccup never undoes or repeats a decision.
 */

/** A new request (or extension): its approval message, the break-glass alert, the link when granted at once. */
export async function announceFiled(deps: BotDeps, outcome: Outcome): Promise<{ posted: boolean }> {
  const { request, redeemUrl } = outcome;
  // The link first: someone breaking glass needs it more than the channel needs the message.
  if (redeemUrl) await dm(deps, request.requester, grantedDm(request, redeemUrl));
  let posted = true;
  try {
    await deps.messages.post(request);
  } catch (err) {
    posted = false;
    deps.log.error(
      { err, requestId: request.id },
      'could not post the approval message; nudging the approvers by DM',
    );
    if (request.status === 'pending') await deps.notifier.nudgeApprovers(request).catch(() => {});
  }
  if (request.breakGlass) {
    const channel = deps.policy().resources.get(request.resource)?.approvalChannel;
    if (channel)
      await deps.client.chat.postMessage({ channel, ...breakGlassAlert(request), unfurl_links: false });
  }
  if (request.status === 'approved') await refreshExtended(deps, request);
  await publishHomes(deps, [request.requester]);
  return { posted };
}

/** An approval: the message shows it; the one that reached the threshold DMs the link. */
export async function announceApproved(
  deps: BotDeps,
  outcome: Outcome,
  approver: SlackUserId,
): Promise<void> {
  const { request, redeemUrl } = outcome;
  if (redeemUrl) await dm(deps, request.requester, grantedDm(request, redeemUrl));
  await refresh(deps, request);
  if (request.status === 'approved') await refreshExtended(deps, request);
  await publishHomes(deps, [request.requester, approver]);
}

export async function announceDenied(
  deps: BotDeps,
  request: AccessRequest,
  approver: SlackUserId,
): Promise<void> {
  await refresh(deps, request);
  await dm(deps, request.requester, deniedDm(request));
  await publishHomes(deps, [request.requester, approver]);
}

export async function announceCancelled(deps: BotDeps, request: AccessRequest): Promise<void> {
  await refresh(deps, request);
  await publishHomes(deps, [request.requester]);
}

export async function announceRevoked(
  deps: BotDeps,
  request: AccessRequest,
  actor: SlackUserId,
): Promise<void> {
  await refresh(deps, request);
  await dm(deps, request.requester, grantEndedDm(request));
  await publishHomes(deps, [request.requester, actor]);
}

async function refresh(deps: BotDeps, request: AccessRequest): Promise<void> {
  await deps.messages.refreshOrQueue(request);
}

/** An approved extension moved the grant's expiry: the original message shows the new one. */
async function refreshExtended(deps: BotDeps, request: AccessRequest): Promise<void> {
  if (request.kind !== 'extension' || !request.extendsGrant) return;
  const original = await deps.store.getRequestOfGrant(request.extendsGrant);
  if (original) await refresh(deps, original);
}
