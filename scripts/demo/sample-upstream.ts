import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for a protected service (say, Grafana): it answers with who jitgate says the caller is,
 * as JSON for `Accept: application/json`, else as a small HTML page.
 */
export interface SampleUpstream {
  url: string;
  /** Every request it received, headers as it saw them. */
  seen: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startSampleUpstream(port = 0): Promise<SampleUpstream> {
  const seen: SampleUpstream['seen'] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    const who = {
      user: req.headers['x-jit-user'],
      email: req.headers['x-jit-email'],
      role: req.headers['x-jit-role'],
      grant: req.headers['x-jit-grant'],
      assertion: req.headers['x-jit-assertion']
        ? 'present (signed JWT, verify with /_jitgate/jwks.json)'
        : 'missing',
    };
    if ((req.headers.accept ?? '').includes('application/json')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ service: 'sample dashboard', method: req.method, path: req.url, who }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      `<!doctype html><title>Sample dashboard</title><h1>Sample dashboard</h1>` +
        `<p id="who">Signed in through jitgate as <b>${escapeHtml(String(who.email ?? '?'))}</b> ` +
        `(${escapeHtml(String(who.user ?? '?'))}), role <b>${escapeHtml(String(who.role ?? '?'))}</b>.</p>` +
        `<p>Path seen here: <code>${escapeHtml(req.url ?? '')}</code></p>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
