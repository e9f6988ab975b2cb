import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The bot's own routes, served on BOT_PORT whichever way Slack reaches it (HTTP or Socket Mode). */
export const HEALTH_PATH = '/_jitgate/healthz';

/**
 * The bot's HTTP server: answers the health check, hands every other request to `route` (Slack's
 * requests in HTTP mode; none in Socket Mode, where everything else is 404), and stops cleanly.
 */
export interface BotHttpServer {
  start(port: number): Promise<{ port: number }>;
  /** Stops taking requests, lets the ones in flight finish (up to `graceMs`), then closes every connection. */
  stop(drained: () => Promise<void>, graceMs?: number): Promise<void>;
}

export function botHttpServer(
  route: (req: IncomingMessage, res: ServerResponse, path: string) => void = notFound,
): BotHttpServer {
  let server: Server | undefined;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const path = routedPath(req.url);
    if (req.method === 'GET' && path === HEALTH_PATH) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    route(req, res, path);
  };
  return {
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

function notFound(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  res.writeHead(404).end();
}

/**
 * The path as Bolt routes on it (`new URL(req.url, base).pathname`: dot segments resolved, an
 * absolute-form target reduced to its path), so that `/x/../slack/events` cannot reach Bolt
 * without passing the checks in front of it.
 */
function routedPath(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return '';
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
