import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An upstream of answers that last: `/events` (server-sent events, one every 100 ms, forever),
 * `/download` (a 1 GB body, 16 KB every 50 ms), `/poll` (a long poll that never answers) and
 * `/upload` (reads a request body to its end, then answers with its length). It counts the requests
 * still open on its side, so a test can see that the authorizer let go of them.
 */
export interface StreamUpstream {
  url: string;
  /** Requests whose connection is still open on the upstream side. */
  open(): number;
  /** Bytes of request bodies received so far (all uploads). */
  uploaded(): number;
  close(): Promise<void>;
}

export async function startStreamUpstream(): Promise<StreamUpstream> {
  let open = 0;
  let uploaded = 0;
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  const every = (res: ServerResponse, ms: number, write: () => void) => {
    const timer = setInterval(() => {
      if (res.destroyed) clearInterval(timer);
      else write();
    }, ms);
    timers.add(timer);
    res.once('close', () => {
      clearInterval(timer);
      timers.delete(timer);
    });
  };
  const server = createServer((req, res) => {
    open += 1;
    res.once('close', () => {
      open -= 1;
    });
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      let n = 0;
      every(res, 100, () => res.write(`data: ${++n}\n\n`));
    } else if (path === '/download') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1_000_000_000 });
      const chunk = Buffer.alloc(16_384, 120);
      every(res, 50, () => res.write(chunk));
    } else if (path === '/poll') {
      // Never answers: the client waits for an event that does not come.
    } else if (path === '/upload') {
      let length = 0;
      req.on('data', (c: Buffer) => {
        length += c.length;
        uploaded += c.length;
      });
      req.on('end', () => res.end(`received ${length}`));
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    open: () => open,
    uploaded: () => uploaded,
    async close() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
