import { createHash } from 'node:crypto';
import { type Receiver, SocketModeReceiver } from '@slack/bolt';
import type { WebClientOptions } from '@slack/web-api';
import type { Logger } from '../shared/log.js';
import { botHttpServer } from './ops-server.js';
import { type BotTransport, boltLogger } from './transport.js';

/**
 * Socket Mode: Bolt's SocketModeReceiver opens a WebSocket to Slack with the app-level token
 * (`apps.connections.open`), answers `hello`, acknowledges each envelope by its id and reconnects
 * when Slack asks (`disconnect`, `refresh_requested`) or the connection drops; two of them, so that
 * one is always open while the other reconnects. No request reaches the
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
  /** Connections held open at once (default 2; Slack allows 10 per app, across every bot). */
  connections?: number | undefined;
}): BotTransport {
  const { log } = options;
  // Retries of apps.connections.open are @slack/socket-mode's own (it keeps trying while Slack is
  // away); ours, tuned for posting messages, would give up sooner.
  const { retryConfig: _ours, ...clientOptions } = options.clientOptions;
  // Two connections, because @slack/socket-mode closes one when Slack asks for a refresh and opens
  // the next only after its pong timeout: meanwhile Slack sends everything to the other one.
  const receivers = Array.from({ length: options.connections ?? 2 }, (_, i) => {
    const receiver = new SocketModeReceiver({
      appToken: options.appToken,
      logger: boltLogger(log),
      installerOptions: { clientOptions },
      ...(options.pingTimeoutMs !== undefined ? { clientPingTimeout: options.pingTimeoutMs } : {}),
      // Slack sends an envelope again when it had no ack in time (a new envelope id each time, for
      // all anyone knows), and may send one twice, to any connection: the delivery id comes from the
      // payload (see listeners/once.ts).
      customPropertiesExtractor: (args: { body?: unknown }) => ({ bodyHash: hashPayload(args.body) }),
    });
    receiver.client.on('reconnecting', () =>
      log.info({ connection: i }, 'socket mode: reconnecting to Slack'),
    );
    receiver.client.on('connected', () => log.info({ connection: i }, 'socket mode: connected to Slack'));
    return receiver;
  });
  const connected = new Set<SocketModeReceiver>();
  const disconnectAll = async () => {
    const open = [...connected];
    connected.clear();
    await Promise.all(
      open.map((r) =>
        r.client
          .disconnect()
          .catch((err: unknown) => log.warn({ err }, 'socket mode: error while disconnecting')),
      ),
    );
  };
  // Bolt sees one receiver; every connection hands its envelopes to the same app.
  const receiver: Receiver = {
    init: (app) => {
      for (const r of receivers) r.init(app);
    },
    start: async () => {
      // One after the other: Slack's refreshes follow each connection's age, so they stay apart.
      for (const r of receivers) {
        await r.start();
        connected.add(r);
      }
    },
    stop: disconnectAll,
  };
  const server = botHttpServer();

  return {
    receiver,
    async start(port) {
      const started = await server.start(port);
      try {
        await receiver.start();
      } catch (err) {
        await disconnectAll();
        await server.stop(async () => {}, 0);
        throw err;
      }
      return started;
    },
    async stop(drained, graceMs = 10_000) {
      // No new envelopes first (Slack sends them to another bot's connection, or again later), then
      // what is being handled finishes, then the health check goes.
      await disconnectAll();
      await server.stop(drained, graceMs);
    },
  };
}

function hashPayload(body: unknown): string {
  return body === undefined ? '' : createHash('sha256').update(JSON.stringify(body)).digest('base64url');
}
