import type { Outcome } from '../../shared/access/service.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import type { BotDeps } from '../deps.js';
import { breakGlassAlert, deniedDm, grantEndedDm, grantedDm } from '../views/dm.js';
import { dm } from './reply.js';

/**
 * What the people involved hear after a use case has run. The state is already saved, so nothing
 * here may throw it away: each effect is retried by the Web API client, a message that still cannot
 * be updated is handed to the worker's queue, and an effect that fails is logged and reported back
 * (`missed`) rather than turned into an error that would claim nothing was changed. Handlers answer
 * the person who acted first and refresh App Homes last.
 */
export interface Announced {
  /** What could not be done, in words for the person who acted ('' when all went out). */
  missed: string;
}

/** A new request (or extension): its approval message, the break-glass alert, the link when granted at once. */
export async function announceFiled(deps: BotDeps, outcome: Outcome): Promise<Announced> {
  const { request, redeemUrl } = outcome;
  const missed: string[] = [];
  // The link first: someone breaking glass needs it more than the channel needs the message.
  if (
    redeemUrl &&
    !(await attempt(deps, request, 'DM the redeem link', () =>
      dm(deps, request.requester, grantedDm(request, redeemUrl)),
    ))
  ) {
    missed.push('jitgate could not DM you the link; ask an approver to check that the app can message you');
  }
  const posted = await attempt(deps, request, 'post the approval message', () => deps.messages.post(request));
  if (!posted && request.status === 'pending') {
    await attempt(deps, request, 'nudge the approvers instead', () => deps.notifier.nudgeApprovers(request));
    missed.push('the approval channel could not be reached, so the approvers were asked by DM instead');
  }
  if (request.breakGlass) {
    const channel = deps.policy().resources.get(request.resource)?.approvalChannel;
    if (channel) {
      await attempt(deps, request, 'post the break-glass alert', () =>
        deps.client.chat.postMessage({ channel, ...breakGlassAlert(request), unfurl_links: false }),
      );
    }
  }
  if (request.status === 'approved') await refreshExtended(deps, request);
  return { missed: missedText(missed) };
}

/** An approval: the message shows it; the one that reached the threshold DMs the link. */
export async function announceApproved(deps: BotDeps, outcome: Outcome): Promise<Announced> {
  const { request, redeemUrl } = outcome;
  const missed: string[] = [];
  if (
    redeemUrl &&
    !(await attempt(deps, request, 'DM the redeem link', () =>
      dm(deps, request.requester, grantedDm(request, redeemUrl)),
    ))
  ) {
    missed.push('jitgate could not DM the requester their link');
  }
  await deps.messages.refreshOrQueue(request);
  if (request.status === 'approved') await refreshExtended(deps, request);
  return { missed: missedText(missed) };
}

export async function announceDenied(deps: BotDeps, request: AccessRequest): Promise<Announced> {
  await deps.messages.refreshOrQueue(request);
  const told = await attempt(deps, request, 'DM the denial', () =>
    dm(deps, request.requester, deniedDm(request)),
  );
  return { missed: told ? '' : missedText(['jitgate could not DM the requester']) };
}

export async function announceCancelled(deps: BotDeps, request: AccessRequest): Promise<Announced> {
  await deps.messages.refreshOrQueue(request);
  return { missed: '' };
}

export async function announceRevoked(deps: BotDeps, request: AccessRequest): Promise<Announced> {
  await deps.messages.refreshOrQueue(request);
  const told = await attempt(deps, request, 'DM the revocation', () =>
    dm(deps, request.requester, grantEndedDm(request)),
  );
  return { missed: told ? '' : missedText(['jitgate could not DM the holder']) };
}

/** An approved extension moved the grant's expiry: the original message shows the new one. */
async function refreshExtended(deps: BotDeps, request: AccessRequest): Promise<void> {
  if (request.kind !== 'extension' || !request.extendsGrant) return;
  const original = await deps.store.getRequestOfGrant(request.extendsGrant).catch(() => undefined);
  if (original) await deps.messages.refreshOrQueue(original);
}

async function attempt(
  deps: BotDeps,
  request: AccessRequest,
  what: string,
  effect: () => Promise<unknown>,
): Promise<boolean> {
  try {
    await effect();
    return true;
  } catch (err) {
    deps.log.error({ err, requestId: request.id }, `could not ${what}`);
    return false;
  }
}

function missedText(missed: string[]): string {
  return missed.length === 0 ? '' : `\n:warning: Done, but ${missed.join('; and ')}.`;
}
