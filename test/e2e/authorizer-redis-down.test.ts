import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bearer, eventually, type Harness, send, startHarness } from './authorizer-harness.js';

/** A private Redis of this test's own, on a fixed port, that can be killed and started again. */
class PrivateRedis {
  private child: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      const poll = () => {
        const probe = createServer();
        // Listening succeeds only while the port is still free, i.e. Redis is not up yet.
        probe.once('error', () => resolve());
        probe.listen(this.port, '127.0.0.1', () => probe.close(() => setTimeout(poll, 20)));
      };
      poll();
    });
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe('authorizer: Redis goes away and comes back', () => {
  let redis: PrivateRedis;
  let h: Harness;
  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    h = await startHarness({ redisUrl: redis.url });
  });
  afterAll(async () => {
    await h?.close();
    await redis?.kill();
  });

  it('when Redis is killed, then access fails closed with 503 and readyz says so; when it returns, access resumes without a restart', async () => {
    const before = await h.grant('app');
    expect((await send(h.url, '/app/', { headers: bearer(before.token) })).status).toBe(200);

    await redis.kill();
    await eventually(async () => {
      const res = await send(h.url, '/app/', { headers: bearer(before.token) });
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({ error: 'unavailable' });
    });
    expect((await send(h.url, '/_jitgate/readyz')).status).toBe(503);
    expect((await send(h.url, '/_jitgate/healthz')).status).toBe(200);
    const seenWhileDown = h.echo.requests.length;

    await redis.start();
    await eventually(async () => expect((await send(h.url, '/_jitgate/readyz')).status).toBe(200), 10_000);
    expect(h.echo.requests.length).toBe(seenWhileDown);

    // The private Redis kept nothing: the old grant is gone, so its token no longer opens anything.
    const old = await send(h.url, '/app/', { headers: bearer(before.token) });
    expect(old.status).toBe(401);
    expect(old.json()).toMatchObject({ error: 'grant_expired' });
    const after = await h.grant('app');
    expect((await send(h.url, '/app/', { headers: bearer(after.token) })).status).toBe(200);
  });

  it('when Redis has come back, then revocations reach open WebSockets again', async () => {
    const { token, grantId } = await h.grant('live');
    const ws = new WebSocket(`${h.url.replace('http', 'ws')}/live/`, { headers: bearer(token) });
    await new Promise((resolve, reject) => {
      ws.once('message', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise((resolve) => ws.once('close', resolve));
    // The subscriber reconnects on its own schedule; publish until the socket is cut.
    await eventually(async () => {
      await h.store.revoke(grantId, 'U0BOSS' as never, 'test').catch(() => undefined);
      await h.redis.publish(h.store.keys.revocations, grantId);
      expect(ws.readyState).not.toBe(WebSocket.OPEN);
    }, 5_000);
    await closed;
  });
});
