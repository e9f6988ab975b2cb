import type { WebClient } from '@slack/web-api';
import type { Effect } from '../../shared/access/effects.js';
import type { Clock } from '../../shared/clock.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import type { AccessStore } from '../../shared/grants/store.js';
import type { Notifier, RedeemAttempt } from '../../shared/jobs/notifier.js';
import type { Logger } from '../../shared/log.js';
import type { Policy, UsergroupLookup } from '../../shared/policy/types.js';
import { carryOut } from '../effects/carry-out.js';
import type { EffectDeps } from '../effects/deps.js';
import { redeemRefusedDm } from '../views/dm.js';
import { sendDm } from './dm.js';
import type { MessageSync } from './message-sync.js';

export type SlackNotifierDeps = {
  client: WebClient;
  policy: () => Policy;
  usergroups: UsergroupLookup;
  clock: Clock;
  log: Logger;
  /** To re-read a request an effect names (an extension's original). */
  store?: AccessStore;
  /** To make redeem links for effects delivered through the queue. */
  access?: EffectDeps['access'];
  /** To refresh App Homes (absent: `refresh-homes` does nothing). */
  homes?: EffectDeps['homes'];
  /** With sign-in on: the resource's plain URL for the grant DM. */
  openUrl?: EffectDeps['openUrl'];
} & ({ sync: MessageSync } | { /** the same, under the name the bot's deps use */ messages: MessageSync });

/**
 * The worker's Notifier: each method is one effect, carried out by the same code as the listeners'
 * (bot/effects/carry-out.ts). A Slack answer that retrying cannot fix (the person or channel is
 * gone, the bot was removed) is a PermanentFailure; anything else is thrown as is so that the job
 * is retried.
 *
 * @example const notifier = new SlackNotifier({ client, store, policy, usergroups, sync, clock, log });
 */
export class SlackNotifier implements Notifier {
  private readonly effects: EffectDeps;

  constructor(deps: SlackNotifierDeps) {
    const messages = 'sync' in deps ? deps.sync : deps.messages;
    const { client, policy, usergroups, clock, log, store, access, homes, openUrl } = deps;
    this.effects = {
      client,
      messages,
      policy,
      usergroups,
      clock,
      log,
      ...(store ? { store } : {}),
      ...(access ? { access } : {}),
      ...(homes ? { homes } : {}),
      ...(openUrl ? { openUrl } : {}),
    };
  }

  refreshApprovalMessage(request: AccessRequest): Promise<void> {
    return this.run({ type: 'update-approval-message', requestId: request.id }, request);
  }

  requestExpired(request: AccessRequest): Promise<void> {
    return this.run({ type: 'tell-request-expired', requestId: request.id, to: request.requester }, request);
  }

  nudgeApprovers(request: AccessRequest): Promise<void> {
    return this.run({ type: 'nudge-approvers', requestId: request.id }, request);
  }

  reviewReminder(request: AccessRequest): Promise<void> {
    return this.run({ type: 'ask-review', requestId: request.id, reminder: true }, request);
  }

  escalated(request: AccessRequest): Promise<void> {
    return this.run({ type: 'escalate-to', requestId: request.id }, request);
  }

  grantExpiringSoon(request: AccessRequest): Promise<void> {
    return this.run({ type: 'remind-expiring', requestId: request.id, to: request.requester }, request);
  }

  grantEnded(request: AccessRequest): Promise<void> {
    return this.run({ type: 'tell-grant-ended', requestId: request.id, to: request.requester }, request);
  }

  redeemRefused(request: AccessRequest, attempt: RedeemAttempt): Promise<void> {
    return sendDm(this.effects.client, request.requester, redeemRefusedDm(request, attempt));
  }

  carryOut(effect: Effect, request: AccessRequest): Promise<void> {
    return this.run(effect, request);
  }

  private run(effect: Effect, request: AccessRequest): Promise<void> {
    return carryOut(this.effects, effect, request);
  }
}
