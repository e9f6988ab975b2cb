import { App } from '@slack/bolt';
import type { Redis } from 'ioredis';
import type { BotDeps, BotSettings } from './deps.js';
import { InFlight } from './listeners/in-flight.js';
import { registerListeners } from './listeners/index.js';
import { botAuthorize, slackClientOptions } from './slack-client.js';
import { boltLogger, httpTransport } from './transport.js';

export interface Bot {
  app: App;
  /** HTTP mode: listens on `port` (0 picks a free one) and answers with the port taken. Socket Mode: connects. */
  start(port?: number): Promise<{ port: number }>;
  /** Stops taking work, lets handlers in flight finish, closes Bolt and HTTP. The worker and Redis are the caller's. */
  stop(): Promise<void>;
  /**
   * Resolves once no delivery is being handled (every listener has returned), e.g. so that a test
   * knows a delivery has been dealt with before it asserts that it changed nothing.
   */
  idle(): Promise<void>;
}

/**
 * The Slack bot: Bolt over HTTP (`/slack/events`) or Socket Mode and every listener. The worker
 * runs beside it or elsewhere (system/start.ts decides).
 *
 * @example const bot = createBot(deps, settings); const { port } = await bot.start(3000);
 */
export function createBot(deps: BotDeps, settings: BotSettings): Bot {
  const socketMode = Boolean(settings.appToken);
  const http = socketMode
    ? undefined
    : httpTransport({
        signingSecret: settings.signingSecret,
        log: deps.log,
        clock: deps.clock,
        unhandledRequestTimeoutMs: settings.unhandledRequestTimeoutMs,
      });
  const app = new App({
    ...(http ? { receiver: http.receiver } : { socketMode: true, appToken: settings.appToken }),
    authorize: botAuthorize(deps.client, settings.botToken, deps.log),
    clientOptions: slackClientOptions(settings, deps.log),
    logger: boltLogger(deps.log),
    extendedErrorHandler: true,
  });
  const inFlight = new InFlight();
  registerListeners(app, deps, inFlight);

  return {
    app,
    async start(port = 3000) {
      // The store's connection fails fast while it is not ready, so a delivery in the first moments
      // (Slack retrying what reached the bot we replace) would be told "cannot reach the state
      // store". Give the connection a moment; if Redis is really away, start anyway and say so.
      await connected(deps.store.redis, 5_000);
      if (!http) {
        await app.start();
        deps.log.info('bot connected to Slack over Socket Mode');
        return { port: 0 };
      }
      const started = await http.start(port);
      deps.log.info({ port: started.port }, 'bot listening on /slack/events');
      return started;
    },
    idle: () => inFlight.drained(),
    async stop() {
      inFlight.refuseNew();
      if (http) await http.stop(() => inFlight.drained());
      else
        await app
          .stop()
          .catch((err: unknown) => deps.log.warn({ err }, 'socket mode: error while disconnecting'));
      await inFlight.drained();
    },
  };
}

/** Resolves when the connection is ready, or after `timeoutMs` (never rejects). */
function connected(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    timer.unref();
    redis.once('ready', done);
  });
}
