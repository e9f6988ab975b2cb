/**
 * The protected service stand-in: a small JSON answer, keep-alive, nothing else. Runs in a process
 * of its own so that it never shares an event loop with the proxy in front of it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveRpc } from './rpc.js';

const BODY = JSON.stringify({ ok: true, service: 'bench-upstream', items: [1, 2, 3, 4, 5, 6, 7, 8] });
let served = 0;

const server = createServer((req, res) => {
  served += 1;
  // Drain any body, then answer; the answer does not depend on the request.
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
  res.end(BODY);
});
// Longer than any pause between runs, so that a proxy's pooled socket is never closed under it.
server.keepAliveTimeout = 120_000;

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveRpc(
    { url: `http://127.0.0.1:${port}`, body: BODY },
    {
      served: () => served,
      stop: () => {
        server.closeAllConnections();
        server.close(() => process.exit(0));
      },
    },
  );
});
