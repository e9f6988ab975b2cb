import { createHash } from 'node:crypto';
import { SocketModeReceiver } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import type { Logger } from '../shared/log.js';
import { botHttpServer } from './ops-server.js';
import { type BotTransport, boltLogger } from './transport.js';

/**
 * Socket Mode: Bolt's SocketModeReceiver opens a WebSocket to Slack with the app-level token
 * (`apps.connections.open`), answers `hello`, acknowledges each envelope by its id and reconnects
 * when Slack asks (`disconnect`, `refresh_requested`) or the connection drops. No request reaches the
 * bot over HTTP, so nothing needs the signing secret; the bot's port still answers the health check
 * and nothing else (`/slack/events` is 404: it would be unsigned here).
 */
export function socketTransport(options: {
  appToken: string;
  log: Logger;
  /** The Web API settings (base URL, timeout, logger) for `apps.connections.open`. */
  clientOptions: WebClientOptions;
  /**
   * How long a pong from Slack may take before the connection counts as lost; @slack/socket-mode
   * also waits this long before it reconnects. Unset: its default (5 s).
   */
  pingTimeoutMs?: number | undefined;
}): BotTransport {
  const { log } = options;
  // Retries of apps.connections.open are @slack/socket-mode's own (it keeps trying while Slack is
  // away); ours, tuned for posting messages, would give up sooner.
  const { retryConfig: _ours, ...clientOptions } = options.clientOptions;
  const receiver = new SocketModeReceiver({
    appToken: options.appToken,
    logger: boltLogger(log),
    installerOptions: { clientOptions },
    ...(options.pingTimeoutMs !== undefined ? { clientPingTimeout: options.pingTimeoutMs } : {}),
    // Slack sends an envelope again when it had no ack in time (a new envelope id each time, for all
    // anyone knows), and may send one twice: the delivery id comes from the payload (see listeners/once.ts).
    customPropertiesExtractor: (args: { body?: unknown }) => ({ bodyHash: hashPayload(args.body) }),
  });
  const client = receiver.client;
  client.on('reconnecting', () => log.info('socket mode: reconnecting to Slack'));
  client.on('connected', () => log.info('socket mode: connected to Slack'));
  const server = botHttpServer();
  let connected = false;

  return {
    receiver,
    async start(port) {
      const started = await server.start(port);
      try {
        await receiver.start();
        connected = true;
      } catch (err) {
        await server.stop(async () => {}, 0);
        throw err;
      }
      return started;
    },
    async stop(drained, graceMs = 10_000) {
      // No new envelopes first (Slack sends them to another connection, or again later), then what
      // is being handled finishes, then the health check goes.
      if (connected) {
        connected = false;
        await client
          .disconnect()
          .catch((err: unknown) => log.warn({ err }, 'socket mode: error while disconnecting'));
      }
      await server.stop(drained, graceMs);
    },
  };
}

function hashPayload(body: unknown): string {
  return body === undefined ? '' : createHash('sha256').update(JSON.stringify(body)).digest('base64url');
}
