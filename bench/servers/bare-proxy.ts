import http, { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';

/**
 * The baseline a user would compare jitgate with: Express 5 and http-proxy-middleware 3 forwarding
 * `/app/*` to the upstream with the prefix stripped, a keep-alive agent sized like the
 * authorizer's, and no checks at all (no token, no Redis, no identity headers, no access log).
 */
export async function startBareProxy(upstreamUrl: string): Promise<{ url: string; server: Server }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 });
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // Mounted under /app: Express strips the prefix from req.url, as the authorizer's routing does.
  app.use('/app', createProxyMiddleware({ target: upstreamUrl, changeOrigin: true, agent, xfwd: false }));
  const server = createServer(app);
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}
