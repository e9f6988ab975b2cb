import type { Worker } from 'bullmq';
import { type Bot, createBot } from '../bot/app.js';
import { confirmedApprovals } from '../bot/approvals/step-up.js';
import { askFiler } from '../bot/asks/file-ask.js';
import { assembleBot } from '../bot/assemble.js';
import type { BotDeps, SlackRetry } from '../bot/deps.js';
import type { Clock } from '../shared/clock.js';
import { startWorker } from '../shared/jobs/worker.js';
import type { Logger } from '../shared/log.js';
import type { Policy } from '../shared/policy/types.js';
import type { RedisClient } from '../shared/redis/connect.js';
import { redisKeys } from '../shared/redis/keys.js';
import type { SlackCredentials } from './preflight.js';

/** A started Slack bot. */
export interface BotRole {
  bot: Bot;
  /** The HTTP port (the health check's only, in Socket Mode). */
  port: number;
  /** `http://127.0.0.1:port`: `/slack/events` (HTTP mode) and `/_jitgate/healthz` are under it. */
  url: string;
}

/** The Slack side of a system: what the bot and the worker share, and whichever of them runs here. */
export interface SlackSide {
  deps: BotDeps;
  bot: BotRole | undefined;
  worker: Worker | undefined;
  /** The bot stops taking work and finishes what it holds, then the worker its jobs, then the queue. */
  stop(): Promise<void>;
}

/**
 * Assembles the bot's dependencies and starts the worker and the bot (in that order, as the bot
 * has always started its worker first). Redis stays the caller's to close.
 */
export async function startSlackSide(input: {
  bot: boolean;
  worker: boolean;
  redis: RedisClient;
  queueRedis: RedisClient;
  prefix: string;
  policy: () => Policy;
  publicUrl: string;
  slack: SlackCredentials;
  apiUrl: string | undefined;
  retry: SlackRetry | undefined;
  clock: Clock;
  log: Logger;
  port: number;
  unhandledRequestTimeoutMs: number | undefined;
  socketPingTimeoutMs?: number | undefined;
  /** Sign-in is on at the authorizer (the same JITGATE_OIDC_* settings): DMs give plain URLs. */
  signIn?: boolean | undefined;
}): Promise<SlackSide> {
  const { log, policy } = input;
  const deps = assembleBot({
    redis: input.redis,
    queueRedis: input.queueRedis,
    prefix: input.prefix,
    policy,
    publicUrl: input.publicUrl,
    botToken: input.slack.botToken,
    apiUrl: input.apiUrl,
    retry: input.retry,
    clock: input.clock,
    log,
    signIn: input.signIn,
  });
  const worker = input.worker
    ? startWorker({
        connection: input.queueRedis,
        queuePrefix: redisKeys(input.prefix).queuePrefix,
        store: deps.store,
        scheduler: deps.scheduler,
        notifier: deps.notifier,
        log: input.bot ? log.child({ component: 'worker' }) : log,
        reminderBeforeMs: (name) => policy().resources.get(name)?.reminderBeforeMs ?? 0,
        asks: askFiler(deps),
        approvals: confirmedApprovals(deps),
      })
    : undefined;
  if (worker && !input.bot) log.info('jitgate worker started');
  const closeWorkerAndQueue = async () => {
    await worker?.close().catch((err: unknown) => log.error({ err }, 'worker did not close cleanly'));
    await deps.scheduler.close().catch((err: unknown) => log.warn({ err }, 'queue did not close cleanly'));
  };

  let bot: BotRole | undefined;
  if (input.bot) {
    const app = createBot(deps, {
      ...input.slack,
      apiUrl: input.apiUrl,
      retry: input.retry,
      unhandledRequestTimeoutMs: input.unhandledRequestTimeoutMs,
      socketPingTimeoutMs: input.socketPingTimeoutMs,
    });
    try {
      const { port } = await app.start(input.port);
      bot = { bot: app, port, url: `http://127.0.0.1:${port}` };
    } catch (err) {
      await closeWorkerAndQueue();
      throw err;
    }
    log.info({ worker: Boolean(worker), socketMode: Boolean(input.slack.appToken) }, 'jitgate bot started');
  }
  return {
    deps,
    bot,
    worker,
    async stop() {
      try {
        await bot?.bot.stop();
      } finally {
        await closeWorkerAndQueue();
        // The homes the last jobs changed, published before the connections close.
        await deps.homes.flush().catch((err: unknown) => log.warn({ err }, 'App Homes not flushed'));
      }
    },
  };
}
