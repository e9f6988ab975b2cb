import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SlackUserId } from '../../shared/ids.js';
import { closedPort } from '../support/upstreams.js';
import { bearer, eventually, type Harness, send, startHarness } from './authorizer-harness.js';

/** A Redis of this test's own, so that stopping it disturbs nobody else. */
async function startPrivateRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 50 });
  probe.on('error', () => {});
  try {
    await eventually(async () => {
      if (probe.status !== 'ready') await probe.connect().catch(() => {});
      expect(await probe.ping()).toBe('PONG');
    }, 5_000);
  } finally {
    probe.disconnect();
  }
  return child;
}

async function stopPrivateRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

describe('authorizer: Redis goes away and comes back', () => {
  let redisProcess: ChildProcess | undefined;
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    if (redisProcess) await stopPrivateRedis(redisProcess);
  });

  it('when Redis is stopped mid-run, then requests and readyz get 503; when it is back, then access works again without a restart', async () => {
    // Arrange: a private Redis, an authorizer on it, a working grant.
    const port = await closedPort();
    redisProcess = await startPrivateRedis(port);
    h = await startHarness({ redisUrl: `redis://127.0.0.1:${port}` });
    const before = await h.grant('app');
    const liveBefore = await h.grant('live');
    expect((await send(h.url, '/app/d/x', { headers: bearer(before.token) })).status).toBe(200);
    expect((await send(h.url, '/_jitgate/readyz')).status).toBe(200);

    // Act: Redis dies.
    await stopPrivateRedis(redisProcess);

    // Assert: fail closed, never a pass, and readiness says so.
    const refused = await send(h.url, '/app/d/x', { headers: bearer(before.token) });
    expect(refused.status).toBe(503);
    expect(refused.json()).toMatchObject({ error: 'unavailable' });
    expect((await send(h.url, '/_jitgate/readyz')).status).toBe(503);
    expect((await send(h.url, '/_jitgate/healthz')).status).toBe(200);
    const upgrade = await send(h.url, '/live/socket', {
      headers: {
        ...bearer(liveBefore.token),
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    }).catch((err: Error) => ({ status: 0, error: err.message }));
    expect(upgrade.status).toBe(503);

    // Act: Redis is back on the same port (empty: it kept nothing), and the grant is made again.
    redisProcess = await startPrivateRedis(port);
    const harness = h;
    await eventually(async () => {
      expect((await send(harness.url, '/_jitgate/readyz')).status).toBe(200);
    }, 5_000);
    const after = await h.grant('app');

    // Assert: the same authorizer lets the new grant through, and still refuses the old one.
    expect((await send(h.url, '/app/d/x', { headers: bearer(after.token) })).status).toBe(200);
    const old = await send(h.url, '/app/d/x', { headers: bearer(before.token) });
    expect(old.json()).toMatchObject({ error: 'grant_expired' });
  });

  it('when Redis comes back, then the revocations subscription is back too and a revoke still cuts an open WebSocket', async () => {
    const port = await closedPort();
    redisProcess = await startPrivateRedis(port);
    h = await startHarness({ redisUrl: `redis://127.0.0.1:${port}` });
    await stopPrivateRedis(redisProcess);
    redisProcess = await startPrivateRedis(port);
    const harness = h;
    await eventually(async () => {
      expect((await send(harness.url, '/_jitgate/readyz')).status).toBe(200);
    }, 5_000);

    const live = await h.grant('live');
    const ws = new WebSocket(`${h.url.replace('http', 'ws')}/live/socket`, { headers: bearer(live.token) });
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      ws.once('message', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });

    // The subscriber may take a moment longer than the command connection to resubscribe.
    await eventually(async () => {
      const subscribers = (await harness.redis.call('PUBSUB', 'NUMSUB', harness.store.keys.revocations)) as [
        string,
        number,
      ];
      expect(subscribers[1]).toBeGreaterThan(0);
    }, 5_000);
    const started = Date.now();
    await h.store.transitions.revoke(live.grantId, 'U0BOSS' as SlackUserId, 'test');
    await closed;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
