import type { WebClient } from '@slack/web-api';
import type { Clock } from '../../shared/clock.js';
import type { AccessRequest, SlackMessageRef } from '../../shared/grants/records.js';
import type { AccessStore } from '../../shared/grants/store.js';
import { PermanentFailure } from '../../shared/jobs/notifier.js';
import type { JobScheduler } from '../../shared/jobs/scheduler.js';
import type { Logger } from '../../shared/log.js';
import type { Policy } from '../../shared/policy/types.js';
import { approvalMessage } from '../views/approval-message.js';
import { saveMessageRef } from './message-refs.js';
import { isPermanentSlackError, slackCall } from './slack-errors.js';

export interface MessageSyncDeps {
  /** The bot's client; its own retries (429 Retry-After, 5xx back-off) run before anything here sees a failure. */
  client: WebClient;
  store: AccessStore;
  scheduler: JobScheduler;
  policy: () => Policy;
  clock: Clock;
  log: Logger;
}

/**
 * Keeps each request's one approval message in step with the request: posted once (an extension as
 * a reply in the original request's thread), then updated in place with `chat.update` on every
 * change. The state in Redis is the truth; a message that cannot be updated now is handed to the
 * worker's queue, and the decision stands regardless.
 *
 * @example
 *   await sync.post(outcome.request);          // after filing
 *   await sync.refreshOrQueue(outcome.request); // after approve / deny / revoke
 */
export class MessageSync {
  constructor(private readonly deps: MessageSyncDeps) {}

  /**
   * Posts the approval message and remembers where (`saveMessageRef`). A request that already has
   * a message keeps it, so a retried delivery does not post twice.
   */
  async post(request: AccessRequest): Promise<SlackMessageRef> {
    if (request.message) return request.message;
    const { client, store, clock } = this.deps;
    const resource = this.deps.policy().resources.get(request.resource);
    const target = await this.target(request, resource?.approvalChannel);
    const res = await slackCall(`posting the approval message of ${request.id}`, () =>
      client.chat.postMessage({
        channel: target.channel,
        ...(target.threadTs ? { thread_ts: target.threadTs } : {}),
        ...approvalMessage(request, resource, clock.now()),
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    if (!res.ts) throw new Error(`chat.postMessage answered without a ts for ${request.id}`);
    // Slack answers with the channel id even when it was addressed by name; chat.update needs the id.
    const ref = { channel: res.channel ?? target.channel, ts: res.ts };
    await saveMessageRef(store.redis, store.keys, request.id, ref);
    return ref;
  }

  /**
   * Re-renders the request's message from its current state (re-read from Redis, so that a late
   * caller never writes an older state over a newer one). Throws on failure, a PermanentFailure when
   * retrying cannot help (message or channel gone). False when the request has no message to update.
   */
  async refresh(request: AccessRequest): Promise<boolean> {
    const { client, store, clock, log } = this.deps;
    // If Redis cannot answer, the caller's copy is the best there is.
    const fresh = (await store.queries.getRequest(request.id).catch(() => undefined)) ?? request;
    const ref = fresh.message;
    if (!ref) {
      log.debug({ requestId: fresh.id }, 'approval message: none posted yet, nothing to update');
      return false;
    }
    const resource = this.deps.policy().resources.get(fresh.resource);
    await slackCall(`updating the approval message of ${fresh.id}`, () =>
      client.chat.update({
        channel: ref.channel,
        ts: ref.ts,
        ...approvalMessage(fresh, resource, clock.now()),
      }),
    );
    return true;
  }

  /**
   * `refresh`, and if Slack still fails after the client's retries, a `refresh-message` job so that
   * the worker tries again later. Never throws: the decision is saved whatever happens to the message.
   * True when the message was updated now.
   */
  async refreshOrQueue(request: AccessRequest): Promise<boolean> {
    const { log, scheduler } = this.deps;
    try {
      return await this.refresh(request);
    } catch (err) {
      if (isPermanentSlackError(err)) {
        log.warn({ err, requestId: request.id }, 'approval message can no longer be updated; leaving it');
        return false;
      }
      log.warn({ err, requestId: request.id }, 'approval message update failed; queued for the worker');
      try {
        await scheduler.notify(request, 'refresh-message');
      } catch (queueErr) {
        log.error(
          { err: queueErr, requestId: request.id },
          'could not queue the approval message update either',
        );
      }
      return false;
    }
  }

  /** The approval channel; for an extension, the thread of the original request's message. */
  private async target(
    request: AccessRequest,
    approvalChannel: string | undefined,
  ): Promise<{ channel: string; threadTs?: string }> {
    if (request.kind === 'extension' && request.extendsGrant) {
      const original = await this.deps.store.queries.getRequestOfGrant(request.extendsGrant);
      if (original?.message) {
        return { channel: original.message.channel, threadTs: original.message.ts };
      }
    }
    if (!approvalChannel) {
      throw new PermanentFailure(`no approval channel for ${request.resource}: it is not in the policy`);
    }
    return { channel: approvalChannel };
  }
}
