import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger as BoltLogger, HTTPReceiver, LogLevel } from '@slack/bolt';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/log.js';

/** Slack signs each request with a timestamp; one more than this far from our clock, either way, is refused. */
export const MAX_CLOCK_SKEW_SEC = 5 * 60;
const EVENTS_PATH = '/slack/events';

/**
 * The HTTP side of the bot: Bolt's HTTPReceiver (signature over the raw body, stale timestamps
 * refused) behind a server of our own that also refuses timestamps from the future, which Bolt lets
 * through, answers a health check, and can be stopped cleanly.
 */
export interface HttpTransport {
  receiver: HTTPReceiver;
  start(port: number): Promise<{ port: number }>;
  /** Stops taking requests, lets the ones in flight finish (up to `graceMs`), then closes every connection. */
  stop(drained: () => Promise<void>, graceMs?: number): Promise<void>;
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
  let server: Server | undefined;

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const path = routedPath(req.url);
    if (req.method === 'GET' && path === '/_jitgate/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
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
  };

  return {
    receiver,
    async start(port) {
      const s = createServer(listener);
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, () => resolve());
      });
      return { port: (s.address() as AddressInfo).port };
    },
    async stop(drained, graceMs = 10_000) {
      const s = server;
      if (!s) return;
      server = undefined;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeIdleConnections();
      await Promise.race([drained(), delay(graceMs)]);
      s.closeAllConnections();
      await closed;
    },
  };
}

/**
 * The path as Bolt routes on it (`new URL(req.url, base).pathname`: dot segments resolved, an
 * absolute-form target reduced to its path), so that `/x/../slack/events` cannot reach Bolt
 * without passing the timestamp guard.
 */
function routedPath(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return '';
  }
}

function freshTimestamp(req: IncomingMessage, nowMs: number): boolean {
  const header = req.headers['x-slack-request-timestamp'];
  if (typeof header !== 'string' || !/^\d{1,12}$/.test(header)) return false;
  return Math.abs(Math.floor(nowMs / 1000) - Number(header)) <= MAX_CLOCK_SKEW_SEC;
}

function hashBody(raw: unknown): string {
  return Buffer.isBuffer(raw) ? createHash('sha256').update(raw).digest('base64url') : '';
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

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
