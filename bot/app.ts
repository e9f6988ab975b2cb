import { App } from '@slack/bolt';
import type { RedisClient } from '../shared/redis/connect.js';
import type { BotDeps, BotSettings } from './deps.js';
import { InFlight } from './listeners/in-flight.js';
import { registerListeners } from './listeners/index.js';
import { workspaceOf } from './slack/workspace.js';
import { botAuthorize, slackClientOptions } from './slack-client.js';
import { socketTransport } from './socket-transport.js';
import { boltLogger, httpTransport } from './transport.js';

export interface Bot {
  app: App;
  /**
   * Listens on `port` (0 picks a free one: `/slack/events` in HTTP mode, the health check in both)
   * and answers with the port taken; in Socket Mode it then connects to Slack.
   */
  start(port?: number): Promise<{ port: number }>;
  /** Stops taking work, lets handlers in flight finish, closes Bolt and HTTP. The worker and Redis are the caller's. */
  stop(): Promise<void>;
  /**
   * Resolves once no delivery is being handled (every listener has returned) and the App Homes they
   * changed are published, e.g. so that a test knows a delivery has been dealt with before it
   * asserts that it changed nothing.
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
  // The workspace the bot token belongs to (auth.test): every delivery must come from it.
  const workspace = workspaceOf(deps.client, deps.log);
  const clientOptions = slackClientOptions(settings, deps.log);
  const transport = settings.appToken
    ? socketTransport({
        appToken: settings.appToken,
        log: deps.log,
        clientOptions: slackClientOptions(settings, deps.log),
        pingTimeoutMs: settings.socketPingTimeoutMs,
      })
    : httpTransport({
        signingSecret: settings.signingSecret,
        log: deps.log,
        clock: deps.clock,
        unhandledRequestTimeoutMs: settings.unhandledRequestTimeoutMs,
      });
  const app = new App({
    receiver: transport.receiver,
    authorize: botAuthorize(workspace, settings.botToken, deps.log),
    clientOptions,
    logger: boltLogger(deps.log),
    extendedErrorHandler: true,
  });
  const inFlight = new InFlight();
  registerListeners(app, deps, inFlight, workspace);

  return {
    app,
    async start(port = 3000) {
      // The store's connection fails fast while it is not ready, so a delivery in the first moments
      // (Slack retrying what reached the bot we replace) would be told "cannot reach the state
      // store". Give the connection a moment; if Redis is really away, start anyway and say so.
      await connected(deps.store.redis, 5_000);
      // Learn our workspace before the first delivery; if Slack cannot say now, every delivery is
      // refused until it can (each one asks again).
      await workspace
        .get()
        .catch((err: unknown) =>
          deps.log.error({ err: String(err) }, 'auth.test failed: deliveries are refused until it succeeds'),
        );
      const started = await transport.start(port);
      deps.log.info(
        { port: started.port },
        settings.appToken
          ? 'bot connected to Slack over Socket Mode; health check on the port'
          : 'bot listening on /slack/events',
      );
      return started;
    },
    async idle() {
      await inFlight.drained();
      await deps.homes.settled();
    },
    async stop() {
      inFlight.refuseNew();
      await transport.stop(() => inFlight.drained());
      await inFlight.drained();
      await deps.homes.flush();
    },
  };
}

/** Resolves when the connection is ready, or after `timeoutMs` (never rejects). */
function connected(redis: RedisClient, timeoutMs: number): Promise<void> {
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
