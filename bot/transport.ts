import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type Logger as BoltLogger, HTTPReceiver, LogLevel, type Receiver } from '@slack/bolt';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';
import { botHttpServer } from './ops-server.js';

/** Slack signs each request with a timestamp; one more than this far from our clock, either way, is refused. */
export const MAX_CLOCK_SKEW_SEC = 5 * 60;
const EVENTS_PATH = '/slack/events';

/** How Slack reaches the bot (a Bolt receiver), with the bot's own HTTP server on BOT_PORT beside it. */
export interface BotTransport {
  receiver: Receiver;
  /** Listens on `port` (0: a free one) and answers the port taken; Socket Mode then connects to Slack. */
  start(port: number): Promise<{ port: number }>;
  /** Stops taking deliveries, lets the ones in flight finish (up to `graceMs`), then closes every connection. */
  stop(drained: () => Promise<void>, graceMs?: number): Promise<void>;
}

/**
 * The HTTP side of the bot: Bolt's HTTPReceiver (signature over the raw body, stale timestamps
 * refused) behind a server of our own that also refuses timestamps from the future, which Bolt lets
 * through, answers a health check, and can be stopped cleanly.
 */
export interface HttpTransport extends BotTransport {
  receiver: HTTPReceiver;
}

export function httpTransport(options: {
  signingSecret: string;
  log: Logger;
  clock: Clock;
  /** Unset: Bolt's default (3001 ms). */
  unhandledRequestTimeoutMs?: number | undefined;
}): HttpTransport {
  const { log, clock } = options;
  const receiver = new HTTPReceiver({
    signingSecret: options.signingSecret,
    endpoints: [EVENTS_PATH],
    // Ack first, work after: Slack wants an answer within 3 s, and handlers call ack() before any I/O.
    processBeforeResponse: false,
    logger: boltLogger(log),
    // A delivery id for every request, from the exact bytes Slack signed (see listeners/once.ts).
    customPropertiesExtractor: (req) => ({ bodyHash: hashBody(req.rawBody) }),
    ...(options.unhandledRequestTimeoutMs !== undefined
      ? { unhandledRequestTimeoutMillis: options.unhandledRequestTimeoutMs }
      : {}),
  });
  const server = botHttpServer((req, res, path) => {
    if (path === EVENTS_PATH && !freshTimestamp(req, clock.now())) {
      log.warn(
        { path, timestamp: req.headers['x-slack-request-timestamp'] },
        'slack request refused: timestamp missing or off by more than 5 minutes',
      );
      res.writeHead(401).end();
      return;
    }
    try {
      receiver.requestListener(req, res);
    } catch {
      // Bolt throws for routes it does not serve.
      if (!res.headersSent) res.writeHead(404).end();
    }
  });

  return {
    receiver,
    start: (port) => server.start(port),
    stop: (drained, graceMs) => server.stop(drained, graceMs),
  };
}

function freshTimestamp(req: IncomingMessage, nowMs: number): boolean {
  const header = req.headers['x-slack-request-timestamp'];
  if (typeof header !== 'string' || !/^\d{1,12}$/.test(header)) return false;
  return Math.abs(Math.floor(nowMs / 1000) - Number(header)) <= MAX_CLOCK_SKEW_SEC;
}

function hashBody(raw: unknown): string {
  return Buffer.isBuffer(raw) ? createHash('sha256').update(raw).digest('base64url') : '';
}

/** Bolt's logger interface over our JSON logger. */
export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  const text = (msg: unknown[]) =>
    msg
      .map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m)))
      .join(' ');
  return {
    debug: (...msg: unknown[]) => child.debug(text(msg)),
    info: (...msg: unknown[]) => child.info(text(msg)),
    warn: (...msg: unknown[]) => child.warn(text(msg)),
    error: (...msg: unknown[]) => child.error(text(msg)),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}
