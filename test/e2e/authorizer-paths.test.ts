import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type Echoed, type Harness, send, startHarness } from './authorizer-harness.js';

/** Writes raw bytes and returns the status line of the answer. */
function rawStatusLine(base: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let data = '';
    socket.on('data', (c) => {
      data += c.toString('latin1');
    });
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
    socket.setTimeout(3_000, () => socket.destroy());
  });
}

const AMBIGUOUS = [
  '/app/%2e%2e/admin',
  '/app/%2E%2E/admin',
  '/app/.%2e/admin',
  '/app/%2e/x',
  '/app/a%2fb',
  '/app/a%2Fb',
  '/app/a%5cb',
  '/app/a%5Cb',
  '/app/a\\b',
  '/app/./x',
  '/app/../x',
  '/app/x/..',
  '/app/..;/admin',
  '/app//x',
  '//app/x',
  '/app/%00',
  '/app/x?y=%00',
  '/app/%zz',
  '/app/%4',
  '/app/%e0%a4',
  '/app/%c0%ae%c0%ae/x',
  'http://evil.example/app/',
  '*',
];

describe('authorizer: paths are judged as the upstream will see them', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it.each(AMBIGUOUS)(
    'when the request target is %s, then 400 bad_path and nothing is forwarded',
    async (path) => {
      const { token } = await h.grant('app', 'editor');
      const before = h.echo.requests.length;
      const res = await send(h.url, path, {
        headers: bearer(token),
        method: path === '*' ? 'OPTIONS' : 'GET',
      });
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ error: 'bad_path' });
      // The catalogue's sentence, naming what was wrong with this path.
      expect(res.json().message).toMatch(/^The request path has .+; it was refused\.$/);
      expect(h.echo.requests.length).toBe(before);
    },
  );

  it('when a path holds ordinary percent-encoding, then it is forwarded byte for byte', async () => {
    const { token } = await h.grant('app');
    const res = await send(h.url, '/app/d/a%20b%C3%A9?q=%2F', { headers: bearer(token) });
    expect(res.status).toBe(200);
    expect(res.json<Echoed>().path).toBe('/d/a%20b%C3%A9?q=%2F');
  });

  it('when the prefix is the whole path or followed by a query, then 308 to the prefix with its slash (query kept, any method), and the upstream sees / with the query there', async () => {
    const { token } = await h.grant('app');
    const before = h.echo.requests.length;
    for (const [method, target, location] of [
      ['GET', '/app', '/app/'],
      ['GET', '/app?x=1', '/app/?x=1'],
      ['POST', '/app?x=1&y=%2F', '/app/?x=1&y=%2F'],
      ['HEAD', '/lan', '/lan/'],
    ] as const) {
      const res = await send(h.url, target, {
        method,
        headers: bearer(token),
        body: method === 'POST' ? 'a=1' : undefined,
      });
      expect(res.status).toBe(308);
      expect(res.headers.location).toBe(location);
      expect(res.headers['cache-control']).toBe('no-store');
    }
    // Without a token too: the slash is not a secret, and nothing reaches the upstream.
    expect((await send(h.url, '/app')).headers.location).toBe('/app/');
    expect(h.echo.requests.length).toBe(before);
    expect((await send(h.url, '/app/?x=1', { headers: bearer(token) })).json<Echoed>().path).toBe('/?x=1');
    // Only the prefix itself: a longer first segment is another path (no resource), never redirected.
    expect((await send(h.url, '/apps', { headers: bearer(token) })).status).toBe(404);
    // A host resource has no prefix: its /app is its own path.
    const hosted = await h.grant('hosted');
    const onHost = await send(h.url, '/app', {
      headers: { ...bearer(hosted.token), host: 'hosted.test.local' },
    });
    expect(onHost.status).toBe(200);
    expect(onHost.json<Echoed>().path).toBe('/app');
  });

  it('when a raw NUL or a CONNECT arrives, then the answer is 400 and nothing is forwarded', async () => {
    const before = h.echo.requests.length;
    expect(await rawStatusLine(h.url, 'GET /app/a\0b HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 400/,
    );
    expect(
      await rawStatusLine(h.url, 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n'),
    ).toMatch(/^HTTP\/1\.1 400/);
    expect(h.echo.requests.length).toBe(before);
  });
});
