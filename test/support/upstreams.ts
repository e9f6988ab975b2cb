import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

/** What an echo upstream received: tests assert on exactly what the authorizer forwarded. */
export interface EchoRequest {
  method: string;
  /** The request target as received (path and query). */
  path: string;
  headers: IncomingHttpHeaders;
  /** Header names exactly as sent, to catch a duplicate or a differently-cased copy. */
  rawHeaderNames: string[];
  body: string;
}

export interface EchoUpstream {
  url: string;
  port: number;
  /** Every request received, oldest first. */
  requests: EchoRequest[];
  /** The target of every request as soon as its headers arrive (before its body is read), oldest first. */
  arrivals: string[];
  close(): Promise<void>;
}

/**
 * An HTTP upstream that answers every request with JSON `{method, path, headers, body}` of what it
 * received. Query switches: `delay=<ms>` answers late, `status=<n>` answers with that status,
 * `setcookie=1` also sets a `jitgate_app` cookie and an ordinary one, `set.<header>=<value>`
 * (repeatable) sets any answer header.
 */
export async function startEchoUpstream(): Promise<EchoUpstream> {
  const requests: EchoRequest[] = [];
  const arrivals: string[] = [];
  const server = createServer(async (req, res) => {
    arrivals.push(req.url ?? '');
    const body = await readBody(req);
    const seen: EchoRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      rawHeaderNames: req.rawHeaders.filter((_, i) => i % 2 === 0),
      body,
    };
    requests.push(seen);
    const query = new URL(req.url ?? '/', 'http://upstream').searchParams;
    const delay = Number(query.get('delay') ?? 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (res.destroyed) return;
    if (query.get('setcookie') === '1') {
      res.setHeader('Set-Cookie', ['jitgate_app=planted; Path=/', 'upstream_session=kept; Path=/']);
    }
    // `set.<header>=<value>`, repeatable: a hostile upstream's answer headers, as the test spells them.
    const set = new Map<string, string[]>();
    for (const [key, value] of query) {
      if (key.startsWith('set.')) set.set(key.slice(4), [...(set.get(key.slice(4)) ?? []), value]);
    }
    for (const [name, values] of set) res.setHeader(name, values.length === 1 ? values[0]! : values);
    const text = JSON.stringify(seen);
    res.writeHead(Number(query.get('status') ?? 200), {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  });
  const port = await listen(server);
  const sockets = trackSockets(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    arrivals,
    close: () => closeServer(server, sockets),
  };
}

export interface WsUpstream {
  url: string;
  port: number;
  /** Upgrade requests received (path and headers), oldest first. */
  upgrades: { path: string; headers: IncomingHttpHeaders }[];
  /** Connections currently open on the upstream side. */
  openCount(): number;
  close(): Promise<void>;
}

/**
 * A WebSocket upstream: on connect it sends `{"type":"hello","path","headers"}` describing the upgrade
 * it received, then echoes every message back.
 */
export async function startWsEchoUpstream(): Promise<WsUpstream> {
  const upgrades: WsUpstream['upgrades'] = [];
  const server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('WebSocket only');
  });
  const wss = new WebSocketServer({ server });
  // `?set.set-cookie=<value>` (repeatable) on the upgrade: a hostile upstream's 101 sets cookies.
  wss.on('headers', (headers, req) => {
    const query = new URL(req.url ?? '/', 'http://upstream').searchParams;
    for (const cookie of query.getAll('set.set-cookie')) headers.push(`Set-Cookie: ${cookie}`);
  });
  wss.on('connection', (ws, req) => {
    const seen = { path: req.url ?? '', headers: req.headers };
    upgrades.push(seen);
    ws.send(JSON.stringify({ type: 'hello', ...seen }));
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', () => {});
  });
  const port = await listen(server);
  const sockets = trackSockets(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    upgrades,
    openCount: () => wss.clients.size,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await closeServer(server, sockets);
    },
  };
}

/** A port on which nothing listens (for an upstream that is down). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

async function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const s of sockets) s.destroy();
  await closed;
}
