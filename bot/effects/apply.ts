import type { Effect, Outcome } from '../../shared/access/effects.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import type { SlackUserId } from '../../shared/ids.js';
import type { BotDeps } from '../deps.js';
import type { Tell } from '../listeners/reply.js';
import { carryOut } from './carry-out.js';
import type { EffectDeps } from './deps.js';
import { replyTo } from './reply.js';

/**
 * The one place where a use case's outcome reaches Slack from a listener: its effects in order, then
 * the reply to the person who acted, then the App Homes. The state is already saved, so nothing
 * here may throw it away: a message that cannot be updated now goes to the worker's queue, an
 * approval message that cannot be posted makes the approvers hear by DM instead, and a DM that fails
 * is logged and named in the reply (":warning: Done, but …") rather than turned into an error that
 * would claim nothing was changed.
 *
 * @example await applyOutcome(deps, await deps.access.approve(requestId, user), { actor: user, tell });
 */
export async function applyOutcome(
  deps: BotDeps,
  outcome: Outcome,
  how: { actor: SlackUserId; tell: Tell },
): Promise<void> {
  const effectDeps = effectDepsOf(deps);
  const missed: string[] = [];
  const homes: SlackUserId[] = [];
  for (const effect of outcome.effects) {
    if (effect.type === 'refresh-homes') homes.push(...effect.users);
    else {
      const miss = await applyOne(effectDeps, effect, outcome.request, how.actor);
      if (miss) missed.push(miss);
    }
  }
  await how.tell(replyTo(outcome) + missedText(missed));
  if (homes.length > 0) deps.homes.refresh(homes);
}

/** The bot's deps as the effects need them. */
export function effectDepsOf(deps: BotDeps): EffectDeps {
  return { ...deps, usergroups: deps.people.usergroups };
}

/** One effect, with what its failure means here; answers what was missed, in words for the actor ('' if nothing). */
async function applyOne(
  deps: EffectDeps,
  effect: Exclude<Effect, { type: 'refresh-homes' }>,
  current: AccessRequest,
  actor: SlackUserId,
): Promise<string> {
  const request = effect.requestId === current.id ? current : await reread(deps, effect.requestId);
  if (!request) return '';
  switch (effect.type) {
    case 'update-approval-message':
      // Never throws: a failed update is queued for the worker.
      await deps.messages.refreshOrQueue(request);
      return '';
    case 'post-approval-message': {
      if (await attempt(deps, effect, request)) return '';
      if (!effect.nudgeIfUnposted) return '';
      await attempt(deps, { type: 'nudge-approvers', requestId: request.id }, request);
      return 'the approval channel could not be reached, so the approvers were asked by DM instead';
    }
    case 'send-redeem-link':
      if (await attempt(deps, effect, request)) return '';
      return effect.to === actor
        ? 'jitgate could not DM you the link; ask an approver to check that the app can message you'
        : 'jitgate could not DM the requester their link';
    case 'tell-denied':
    case 'tell-request-expired':
      return (await attempt(deps, effect, request)) ? '' : 'jitgate could not DM the requester';
    case 'tell-grant-ended':
    case 'remind-expiring':
      return (await attempt(deps, effect, request)) ? '' : 'jitgate could not DM the holder';
    default:
      await attempt(deps, effect, request);
      return '';
  }
}

async function reread(deps: EffectDeps, requestId: string): Promise<AccessRequest | undefined> {
  return deps.store?.queries.getRequest(requestId).catch(() => undefined);
}

async function attempt(deps: EffectDeps, effect: Effect, request: AccessRequest): Promise<boolean> {
  try {
    await carryOut(deps, effect, request);
    return true;
  } catch (err) {
    deps.log.error({ err, requestId: request.id }, `could not carry out ${effect.type}`);
    return false;
  }
}

function missedText(missed: string[]): string {
  return missed.length === 0 ? '' : `\n:warning: Done, but ${missed.join('; and ')}.`;
}
