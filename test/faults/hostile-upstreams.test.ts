import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countFigures } from '../security/figures.js';
import { bearer, eventually, type Harness, send, startHarness } from '../support/authorizer-harness.js';
import {
  HOSTILE_ANSWERS,
  type HostileUpstream,
  startHostileUpstream,
  UPGRADE_ANSWERS,
} from '../support/hostile-upstream.js';

/**
 * One upstream's answer never takes the authorizer down. A hostile upstream (raw bytes from
 * node:net: wrong lengths, broken chunks, resets, garbage, slow-loris heads) answers one request;
 * that request's client gets 502 or 504, or its connection is cut when the head had already been
 * passed on; a request to another resource made at the same time gets its 200; nothing becomes an
 * uncaught exception; and the upstream's connection is let go.
 */
countFigures('fault');

let h: Harness;
let hostile: HostileUpstream;
let viewer: string;
let holder: string;
let editor: string;
const uncaught: unknown[] = [];
const record = (err: unknown) => uncaught.push(err);

beforeAll(async () => {
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  hostile = await startHostileUpstream();
  h = await startHarness({
    resources: `
  hostile:
    upstream: ${hostile.url}
    match: { pathPrefix: /hostile }
    approvers: { users: [U0BOSS] }
    websocket: true
`,
  });
  viewer = (await h.grant('app', 'viewer', { durationMs: 600_000 })).token;
  holder = (await h.grant('hostile', undefined, { durationMs: 600_000 })).token;
  editor = (await h.grant('app', 'editor', { durationMs: 600_000 })).token;
});
afterAll(async () => {
  await h?.close();
  await hostile?.close();
  process.off('uncaughtException', record);
  process.off('unhandledRejection', record);
});
afterEach(async () => {
  expect(uncaught.splice(0)).toEqual([]);
  expect((await send(h.url, '/_jitgate/healthz')).status).toBe(200);
});

type Outcome = { status: number; body: string } | { cut: true; status?: number };

/** One request, and what its client saw: a whole response, or a connection that ended before one. */
function outcomeOf(path: string, headers: Record<string, string>): Promise<Outcome> {
  const { hostname, port } = new URL(h.url);
  return new Promise((resolve) => {
    const req = request({ hostname, port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.complete) resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      });
      res.on('close', () => {
        if (!res.complete) resolve({ cut: true, status: res.statusCode });
      });
      res.on('error', () => {});
    });
    req.on('error', () => resolve({ cut: true }));
    req.end();
  });
}

describe('hostile upstream answers', () => {
  for (const [name, { outcome }] of Object.entries(HOSTILE_ANSWERS)) {
    it(`when the upstream answers "${name}", then its client gets ${outcome} and a concurrent request gets 200`, async () => {
      const [got, other] = await Promise.all([
        outcomeOf(`/hostile/${name}`, bearer(holder)),
        // Started at the same time, to another resource of the same authorizer.
        send(h.url, '/app/ok', { headers: bearer(viewer) }),
      ]);
      expect(other.status).toBe(200);
      if (outcome === 'cut') expect(got).toMatchObject({ cut: true });
      else expect(got).toMatchObject({ status: outcome });
      if (outcome === 502 || outcome === 504) {
        // The refusal is ours, whole: nothing of the upstream's answer leaks into it.
        expect(JSON.parse((got as { body: string }).body)).toMatchObject({
          error: outcome === 502 ? 'upstream_unreachable' : 'upstream_timeout',
        });
      }
      // Right after: the same resource answers again, with nothing left over from the bad answer.
      const honest = await outcomeOf('/hostile/honest', bearer(holder));
      expect(honest).toEqual({ status: 200, body: 'honest' });
    });
  }

  it('when hostile answers come all at once, then each client gets its own outcome and the authorizer lets go of every upstream connection', async () => {
    const names = Object.keys(HOSTILE_ANSWERS);
    const results = await Promise.all([
      ...names.map((name) => outcomeOf(`/hostile/${name}`, bearer(holder))),
      ...names.map(() => send(h.url, '/app/ok', { headers: bearer(viewer) })),
    ]);
    results.slice(0, names.length).forEach((got, i) => {
      const { outcome } = HOSTILE_ANSWERS[names[i]!]!;
      if (outcome === 'cut') expect(got, names[i]).toMatchObject({ cut: true });
      else expect(got, names[i]).toMatchObject({ status: outcome });
    });
    for (const other of results.slice(names.length)) expect((other as { status: number }).status).toBe(200);
    // Only the keep-alive connections of honest answers may stay open.
    await eventually(() => expect(hostile.open()).toBeLessThanOrEqual(2), 3_000);
  });
});

describe('clients that leave', () => {
  /** Opens a raw connection, sends `bytes`, and resets it once `until` says so (or at once). */
  function resetAfter(bytes: string, until: (received: string) => boolean): Promise<string> {
    const url = new URL(h.url);
    return new Promise((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write(bytes));
      let received = '';
      socket.on('data', (c: Buffer) => {
        received += c.toString('latin1');
        if (until(received)) socket.resetAndDestroy();
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(received));
      if (until('')) setTimeout(() => socket.resetAndDestroy(), 50);
    });
  }
  const get = (path: string, token: string) =>
    `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`;

  it('when a client resets its connection in the middle of an endless stream, then the upstream connection is closed too', async () => {
    const before = hostile.open();
    const got = await resetAfter(get('/hostile/endless-stream', holder), (r) => r.includes('data: 1\n'));
    expect(got).toContain('200 OK');
    await eventually(() => expect(hostile.open()).toBeLessThanOrEqual(before));
    expect((await send(h.url, '/app/ok', { headers: bearer(viewer) })).status).toBe(200);
  });

  it('when a client resets while the upstream has not answered yet, then the upstream request is aborted', async () => {
    const before = hostile.open();
    await resetAfter(get('/hostile/silence', holder), () => true);
    await eventually(() => expect(hostile.open()).toBeLessThanOrEqual(before));
  });

  it('when a client resets in the middle of a request body, then nothing breaks', async () => {
    await resetAfter(
      `POST /app/api/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${editor}\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`,
      () => true,
    );
    expect((await send(h.url, '/app/ok', { headers: bearer(viewer) })).status).toBe(200);
  });

  it('when a client sends a chunked body that breaks its own framing, then it gets 400 and others go on', async () => {
    const got = await resetAfter(
      `POST /app/api/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${editor}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`,
      (r) => r.includes('\r\n\r\n'),
    );
    expect(got).toMatch(/^HTTP\/1\.1 (400|502)/);
    expect((await send(h.url, '/app/ok', { headers: bearer(viewer) })).status).toBe(200);
  });
});

describe('WebSocket tunnels that break', () => {
  /** An upgrade over a raw socket (reset by the client once it is open, if `resetWhenOpen`): what came back. */
  function upgrade(path: string, resetWhenOpen = false): Promise<string> {
    const url = new URL(h.url);
    return new Promise((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () =>
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${holder}\r\nConnection: Upgrade\r\n` +
            'Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        ),
      );
      let got = '';
      socket.on('data', (c: Buffer) => {
        got += c.toString('latin1');
        if (resetWhenOpen && got.includes('\r\n\r\n')) socket.resetAndDestroy();
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(got));
    });
  }

  for (const [name, { outcome }] of Object.entries(UPGRADE_ANSWERS)) {
    it(`when the upstream's upgrade goes "${name}", then its client gets ${outcome} and others go on`, async () => {
      const [got, other] = await Promise.all([
        upgrade(`/hostile/${name}`),
        send(h.url, '/app/ok', { headers: bearer(viewer) }),
      ]);
      expect(other.status).toBe(200);
      if (outcome === 'cut') expect(got).toMatch(/^HTTP\/1\.1 101 /);
      else expect(got).toMatch(new RegExp(`^HTTP/1\\.1 ${outcome} `));
    });
  }

  it('when a client resets an open tunnel, then the upstream side is closed too', async () => {
    const before = hostile.open();
    const got = await upgrade('/hostile/upgrade-then-silence', true);
    expect(got).toMatch(/^HTTP\/1\.1 101 /);
    await eventually(() => expect(hostile.open()).toBeLessThanOrEqual(before));
  });
});
