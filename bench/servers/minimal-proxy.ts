import http, { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The least a Node proxy can do: node:http in front, `http.request` with a keep-alive agent behind,
 * `/app` stripped, bodies piped both ways, no checks, no header rewriting, no log. The floor that
 * jitgate's own work (and Express's, for the bare proxy) is measured above.
 */
export async function startMinimalProxy(upstreamUrl: string): Promise<{ url: string; server: Server }> {
  const upstream = new URL(upstreamUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 });
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const path = url.startsWith('/app/') ? url.slice(4) : url;
    const headers = { ...req.headers, host: upstream.host };
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path, headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(out);
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}
