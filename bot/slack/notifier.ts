import type { WebClient } from '@slack/web-api';
import type { Clock } from '../../shared/clock.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import type { AccessStore } from '../../shared/grants/store.js';
import type { SlackUserId } from '../../shared/ids.js';
import type { Notifier } from '../../shared/jobs/notifier.js';
import type { Logger } from '../../shared/log.js';
import { approversOf } from '../../shared/policy/index.js';
import type { Policy, UsergroupLookup } from '../../shared/policy/types.js';
import type { SlackMessage } from '../views/actions.js';
import { expiringSoonDm, grantEndedDm, nudgeDm, requestExpiredDm } from '../views/dm.js';
import type { MessageSync } from './message-sync.js';
import { isPermanentSlackError, slackCall } from './slack-errors.js';

export type SlackNotifierDeps = {
  client: WebClient;
  policy: () => Policy;
  usergroups: UsergroupLookup;
  clock: Clock;
  log: Logger;
  /** Accepted for symmetry with the other Slack pieces; the notifier is handed fresh requests and needs no reads. */
  store?: AccessStore;
} & ({ sync: MessageSync } | { /** the same, under the name the bot's deps use */ messages: MessageSync });

/**
 * The worker's Notifier, spoken through Slack: the approval message kept in sync, and DMs to the
 * requester or the approvers. Each method is one effect. A Slack answer that retrying cannot fix
 * (the person or channel is gone, the bot was removed) is a PermanentFailure; anything else is
 * thrown as is so that the job is retried.
 *
 * @example const notifier = new SlackNotifier({ client, store, policy, usergroups, sync, clock, log });
 */
export class SlackNotifier implements Notifier {
  private readonly sync: MessageSync;

  constructor(private readonly deps: SlackNotifierDeps) {
    this.sync = 'sync' in deps ? deps.sync : deps.messages;
  }

  async refreshApprovalMessage(request: AccessRequest): Promise<void> {
    await this.sync.refresh(request);
  }

  async requestExpired(request: AccessRequest): Promise<void> {
    await this.dm(request.requester, requestExpiredDm(request));
  }

  /**
   * DMs every approver who has not approved yet (never the requester) the request with its buttons.
   * One approver Slack cannot reach does not stop the others; the job fails (and is retried) only
   * when nobody could be reached for a reason that may pass.
   */
  async nudgeApprovers(request: AccessRequest): Promise<void> {
    const { policy, usergroups, log } = this.deps;
    const resource = policy().resources.get(request.resource);
    if (!resource) {
      log.warn(
        { requestId: request.id, resource: request.resource },
        'nudge: resource no longer in the policy',
      );
      return;
    }
    const approvers = [...(await approversOf(resource, usergroups))].filter(
      (user) => user !== request.requester && !request.approvals.includes(user),
    );
    const message = nudgeDm(request, resource);
    const results = await Promise.allSettled(approvers.map((user) => this.dm(user, message)));
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [{ user: approvers[i], err: r.reason }] : [],
    );
    for (const { user, err } of failed)
      log.warn({ err, user, requestId: request.id }, 'nudge: could not DM an approver');
    const retryable = failed.filter(({ err }) => !isPermanentSlackError(err));
    if (approvers.length > 0 && retryable.length > 0 && retryable.length === approvers.length) {
      throw retryable[0]!.err;
    }
  }

  async grantExpiringSoon(request: AccessRequest): Promise<void> {
    await this.dm(request.requester, expiringSoonDm(request, this.deps.clock.now()));
  }

  async grantEnded(request: AccessRequest): Promise<void> {
    await this.dm(request.requester, grantEndedDm(request));
  }

  /** A DM from the bot: open (or find) the IM channel, then post into it. */
  private async dm(user: SlackUserId, message: SlackMessage): Promise<void> {
    const { client } = this.deps;
    const opened = await slackCall(`opening a DM with ${user}`, () =>
      client.conversations.open({ users: user }),
    );
    const channel = opened.channel?.id;
    if (!channel) throw new Error(`conversations.open answered without a channel for ${user}`);
    await slackCall(`sending a DM to ${user}`, () =>
      client.chat.postMessage({ channel, ...message, unfurl_links: false, unfurl_media: false }),
    );
  }
}
