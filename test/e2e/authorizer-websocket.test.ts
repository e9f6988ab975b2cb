import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bearer, eventually, type Harness, send, startHarness } from './authorizer-harness.js';

const UPGRADE = {
  connection: 'Upgrade',
  upgrade: 'websocket',
  'sec-websocket-version': '13',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
};

type Opened = { ws: WebSocket; hello: { path: string; headers: Record<string, string | undefined> } };

/** Opens a WebSocket through the authorizer and waits for the upstream's hello. */
function open(url: string, headers: Record<string, string>): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('message', (data) => resolve({ ws, hello: JSON.parse(String(data)) }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Tries to open one and returns the HTTP status and body of the refusal (never a 101). */
function refusedUpgrade(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once('error', () => {});
  });
}

const closed = (ws: WebSocket) => new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

describe('authorizer: WebSockets', () => {
  let h: Harness;
  let wsBase: string;
  beforeAll(async () => {
    h = await startHarness();
    wsBase = h.url.replace('http://', 'ws://');
  });
  afterAll(async () => h.close());

  it('when the grant allows it, then the upgrade is proxied with our identity headers and messages flow', async () => {
    const { token, grantId } = await h.grant('live');
    const { ws, hello } = await open(`${wsBase}/live/stream?x=1`, {
      ...bearer(token),
      'X-JIT-User': 'U0MALLORY',
      Connection: 'Upgrade, X-JIT-Role',
    });
    expect(hello.path).toBe('/stream?x=1');
    expect(hello.headers['x-jit-user']).toBe('U0ALICE');
    expect(hello.headers['x-jit-grant']).toBe(grantId);
    expect(hello.headers['x-jit-role']).toBe('access');
    expect(hello.headers.authorization).toBeUndefined();
    const echoed = new Promise((resolve) => ws.once('message', (d) => resolve(String(d))));
    ws.send('ping');
    expect(await echoed).toBe('ping');
    ws.close();
  });

  it('when the token comes as our cookie, then the upgrade is allowed and the cookie is not forwarded', async () => {
    const { token } = await h.grant('live');
    const { ws, hello } = await open(`${wsBase}/live/`, { cookie: `jitgate_live=${token}; a=1` });
    expect(hello.headers.cookie).toBe('a=1');
    ws.close();
  });

  it('when the upgrade has no token, then it is refused with 401 before any 101, and the upstream never sees it', async () => {
    const before = h.ws.upgrades.length;
    const r = await refusedUpgrade(`${wsBase}/live/`);
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ error: 'token_missing' });
    expect(h.ws.upgrades.length).toBe(before);
  });

  it('when the grant is revoked or the resource takes no WebSockets or the path is ambiguous, then the upgrade is refused', async () => {
    const revoked = await h.grant('live');
    await h.store.transitions.revoke(revoked.grantId, 'U0BOSS' as never, 'test');
    expect((await refusedUpgrade(`${wsBase}/live/`, bearer(revoked.token))).status).toBe(401);
    const app = await h.grant('app');
    const noWs = await refusedUpgrade(`${wsBase}/app/`, bearer(app.token));
    expect(noWs.status).toBe(403);
    expect(JSON.parse(noWs.body)).toMatchObject({ error: 'method_not_allowed' });
    const live = await h.grant('live');
    // The ws client would normalise the URL, so this one goes out raw.
    const raw = await send(h.url, '/live/%2e%2e/x', {
      headers: { ...bearer(live.token), ...UPGRADE },
    });
    expect(raw.status).toBe(400);
    expect(raw.json()).toMatchObject({ error: 'bad_path' });
    const h2c = await send(h.url, '/live/', {
      headers: { ...bearer(live.token), ...UPGRADE, upgrade: 'h2c' },
    });
    expect(h2c.status).toBe(400);
    const other = await h.grant('other');
    expect((await refusedUpgrade(`${wsBase}/live/`, bearer(other.token))).status).toBe(403);
  });

  it('when the grant is revoked while a socket is open, then the socket is cut at once, both ends', async () => {
    const { token, grantId } = await h.grant('live');
    const { ws } = await open(`${wsBase}/live/`, bearer(token));
    const { ws: second } = await open(`${wsBase}/live/`, bearer(token));
    const started = Date.now();
    await h.store.transitions.revoke(grantId, 'U0BOSS' as never, 'test');
    await Promise.all([closed(ws), closed(second)]);
    expect(Date.now() - started).toBeLessThan(1_000);
    await eventually(() => expect(h.ws.openCount()).toBe(0));
  });

  it('when a 3-second grant runs out with a socket open and no worker running, then the socket is cut at expiry', async () => {
    const { token, expiresAt } = await h.grant('live', undefined, { durationMs: 3_000 });
    const { ws } = await open(`${wsBase}/live/`, bearer(token));
    await closed(ws);
    const lateBy = Date.now() - expiresAt;
    expect(lateBy).toBeGreaterThanOrEqual(-50);
    expect(lateBy).toBeLessThan(1_000);
  });
});
