import { AccessService } from '../shared/access/service.js';
import { type Clock, systemClock } from '../shared/clock.js';
import { AccessStore } from '../shared/grants/store.js';
import { JobScheduler } from '../shared/jobs/scheduler.js';
import { auditToLog, type Logger } from '../shared/log.js';
import { browserUrl } from '../shared/policy/index.js';
import type { Policy } from '../shared/policy/types.js';
import type { RedisClient } from '../shared/redis/connect.js';
import { redisKeys } from '../shared/redis/keys.js';
import type { BotDeps, SlackRetry } from './deps.js';
import { HomeRefresher } from './effects/homes.js';
import { MessageSync } from './slack/message-sync.js';
import { SlackNotifier } from './slack/notifier.js';
import { slackPeople } from './slack/people.js';
import { createSlackClient } from './slack-client.js';

export interface AssembleInput {
  /** The store's connection (fails fast while Redis is away). */
  redis: RedisClient;
  /** BullMQ's connection (blocking commands, no retry limit). */
  queueRedis: RedisClient;
  prefix: string;
  policy: () => Policy;
  publicUrl: string;
  botToken: string;
  apiUrl?: string | undefined;
  retry?: SlackRetry | undefined;
  clock?: Clock;
  log: Logger;
  /** How long user-group members and e-mail addresses are cached. */
  peopleTtlMs?: number;
  /** Sign-in is on at the authorizer: grant DMs give the resource's plain URL to open. */
  signIn?: boolean | undefined;
}

/**
 * Builds what the bot and the worker share from their connections and settings: the store, the
 * scheduler, the use cases, and the Slack side (client, people, approval messages, notifier).
 *
 * @example const deps = assembleBot({ redis, queueRedis, prefix, policy: () => policy, publicUrl, botToken, log });
 */
export function assembleBot(input: AssembleInput): BotDeps {
  const clock = input.clock ?? systemClock;
  const { log, policy } = input;
  const keys = redisKeys(input.prefix);
  const store = new AccessStore(input.redis, {
    prefix: input.prefix,
    clock,
    auditSink: auditToLog(log.child({ component: 'audit' })),
  });
  const scheduler = new JobScheduler(input.queueRedis, keys.queuePrefix, clock, (err) =>
    log.warn({ err: err.message }, 'queue: connection error'),
  );
  const client = createSlackClient(input.botToken, { apiUrl: input.apiUrl, retry: input.retry }, log);
  const people = slackPeople(client, { ttlMs: input.peopleTtlMs ?? 5 * 60_000, clock });
  const access = new AccessService({
    store,
    scheduler,
    policy,
    usergroups: people.usergroups,
    clock,
    publicUrl: input.publicUrl,
  });
  const messages = new MessageSync({ client, store, scheduler, policy, clock, log });
  const openUrl = input.signIn
    ? (name: string) => {
        const resource = policy().resources.get(name);
        return resource ? browserUrl(resource, input.publicUrl) : undefined;
      }
    : undefined;
  const homes = new HomeRefresher({ client, access, clock, log });
  const notifier = new SlackNotifier({
    client,
    messages,
    policy,
    clock,
    log,
    usergroups: people.usergroups,
    store,
    access,
    homes,
    openUrl,
  });
  const stepUpUrl = input.signIn
    ? (code: string) => new URL(`/_jitgate/approve?code=${encodeURIComponent(code)}`, input.publicUrl).href
    : undefined;
  return {
    access,
    store,
    scheduler,
    policy,
    people,
    messages,
    homes,
    notifier,
    client,
    clock,
    log,
    openUrl,
    stepUpUrl,
  };
}
