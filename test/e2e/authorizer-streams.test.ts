import { type ClientRequest, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRequestId, type SlackUserId } from '../../shared/ids.js';
import { type StreamUpstream, startStreamUpstream } from '../support/stream-upstream.js';
import { ALICE, bearer, eventually, type Harness, send, startHarness } from './authorizer-harness.js';

/**
 * Access ends for every open connection, not only WebSockets: an HTTP response still under way (a
 * server-sent event stream, a long download, a long poll, an upload) ends at the grant's revocation
 * and at its expiry, with no worker running; other grants' responses go on.
 */
interface Streaming {
  status: number;
  bytes(): number;
  /** Resolves when the response ends: whole, or cut short (`cut`), and when. */
  ended: Promise<{ cut: boolean; at: number }>;
  stop(): void;
}

let h: Harness;
let upstream: StreamUpstream;

beforeAll(async () => {
  upstream = await startStreamUpstream();
  h = await startHarness({
    // Long polls wait longer than the harness's usual upstream timeout.
    upstreamTimeoutMs: 10_000,
    resources: `
  feed:
    upstream: ${upstream.url}
    match: { pathPrefix: /feed }
    approvers: { users: [U0BOSS] }
`,
  });
});
afterAll(async () => {
  await h?.close();
  await upstream?.close();
});

const revoke = (grantId: string) =>
  h.store.transitions.revoke(grantId as never, 'U0BOSS' as SlackUserId, 'test');

/** Opens a response and resolves once its first bytes arrived. */
function stream(path: string, token: string): Promise<Streaming> {
  const { hostname, port } = new URL(h.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers: bearer(token), agent: false }, (res) => {
      let bytes = 0;
      const ended = new Promise<{ cut: boolean; at: number }>((done) => {
        res.on('end', () => done({ cut: !res.complete, at: Date.now() }));
        res.on('close', () => done({ cut: !res.complete, at: Date.now() }));
      });
      res.on('error', () => {});
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.once('data', () =>
        resolve({ status: res.statusCode ?? 0, bytes: () => bytes, ended, stop: () => req.destroy() }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves when `n` more bytes have arrived. */
async function flowing(s: Streaming, n = 1): Promise<void> {
  const from = s.bytes();
  await eventually(() => expect(s.bytes()).toBeGreaterThanOrEqual(from + n), 2_000);
}

describe('authorizer: HTTP responses end with access', () => {
  it("when a grant is revoked, then its server-sent event streams are cut within a second and another grant's stream goes on", async () => {
    const mine = await h.grant('feed');
    const theirs = await h.grant('feed', undefined, { user: 'U0BOB' as SlackUserId });
    const [a, b, other] = await Promise.all([
      stream('/feed/events', mine.token),
      stream('/feed/events', mine.token),
      stream('/feed/events', theirs.token),
    ]);
    expect([a.status, b.status, other.status]).toEqual([200, 200, 200]);
    const started = Date.now();
    await revoke(mine.grantId);
    const [endA, endB] = await Promise.all([a.ended, b.ended]);
    expect(endA.cut && endB.cut).toBe(true);
    expect(Math.max(endA.at, endB.at) - started).toBeLessThan(1_000);
    // The other grant's stream still flows after the cut.
    await flowing(other, 20);
    other.stop();
    // And the revoked grant's next request is refused.
    expect((await send(h.url, '/feed/events', { headers: bearer(mine.token) })).status).toBe(401);
  });

  it('when a 3-second grant runs out with a stream open and no worker running, then the stream is cut at expiry', async () => {
    const { token, expiresAt } = await h.grant('feed', undefined, { durationMs: 3_000 });
    const s = await stream('/feed/events', token);
    const { cut, at } = await s.ended;
    expect(cut).toBe(true);
    expect(at - expiresAt).toBeGreaterThanOrEqual(-50);
    expect(at - expiresAt).toBeLessThan(1_000);
  });

  it('when the grant is extended while a stream is open, then the stream outlives the old expiry and ends at the new one', async () => {
    const { token, grantId, expiresAt } = await h.grant('feed', undefined, { durationMs: 1_500 });
    const s = await stream('/feed/events', token);
    const ext = newRequestId();
    await h.store.transitions.createRequest(
      {
        id: ext,
        kind: 'extension',
        requester: ALICE,
        email: 'u0alice@example.com',
        resource: 'feed',
        role: 'access',
        durationMs: 1_500,
        reason: 'longer',
        breakGlass: false,
        approvalsRequired: 1,
        selfApproval: false,
        pendingTimeoutMs: 60_000,
        extendsGrant: grantId,
      },
      'U0BOSS',
    );
    const extended = (await h.store.queries.liveGrant(grantId))!.expiresAt;
    expect(extended).toBeGreaterThan(expiresAt);
    const { cut, at } = await s.ended;
    expect(cut).toBe(true);
    expect(at - extended).toBeGreaterThanOrEqual(-50);
    expect(at - extended).toBeLessThan(1_000);
  });

  it('when a grant is revoked during a long download, then the download is cut and the upstream lets go', async () => {
    const { token, grantId } = await h.grant('feed');
    const before = upstream.open();
    const s = await stream('/feed/download', token);
    await flowing(s, 32_768);
    await revoke(grantId);
    expect((await s.ended).cut).toBe(true);
    await eventually(() => expect(upstream.open()).toBe(before));
  });

  it('when a grant is revoked while a long poll waits, then the poll is answered 401 grant_revoked and the upstream request is aborted', async () => {
    const { token, grantId } = await h.grant('feed');
    const before = upstream.open();
    const poll = send(h.url, '/feed/poll', { headers: bearer(token) });
    await eventually(() => expect(upstream.open()).toBe(before + 1));
    await revoke(grantId);
    const answer = await poll;
    expect(answer.status).toBe(401);
    expect(answer.json()).toMatchObject({ error: 'grant_revoked' });
    await eventually(() => expect(upstream.open()).toBe(before));
  });

  it('when a grant expires while a long poll waits, then the poll is answered 401 grant_expired', async () => {
    const { token } = await h.grant('feed', undefined, { durationMs: 1_500 });
    const answer = await send(h.url, '/feed/poll', { headers: bearer(token) });
    expect(answer.status).toBe(401);
    expect(answer.json()).toMatchObject({ error: 'grant_expired' });
  });

  it('when a grant is revoked during a slow upload, then the upload is cut and the upstream gets no more of it', async () => {
    const { token, grantId } = await h.grant('feed');
    const { hostname, port } = new URL(h.url);
    const before = upstream.open();
    let req: ClientRequest | undefined;
    const outcome = new Promise<string>((resolve) => {
      req = request(
        {
          hostname,
          port,
          path: '/feed/upload',
          method: 'POST',
          headers: { ...bearer(token), 'content-length': 1_000_000 },
          agent: false,
        },
        (res) => resolve(`answered ${res.statusCode}`),
      );
      req.on('error', () => resolve('cut'));
      req.on('close', () => resolve('cut'));
    });
    const chunk = Buffer.alloc(1_024, 120);
    const drip = setInterval(() => req?.write(chunk), 50);
    try {
      await eventually(() => expect(upstream.uploaded()).toBeGreaterThan(0));
      await revoke(grantId);
      expect(await outcome).toBe('cut');
      await eventually(() => expect(upstream.open()).toBe(before));
      const received = upstream.uploaded();
      await new Promise((r) => setTimeout(r, 200));
      expect(upstream.uploaded()).toBe(received);
    } finally {
      clearInterval(drip);
      req?.destroy();
    }
  });

  it('when a grant is revoked with nothing open, then its next stream is refused and other grants stream as before', async () => {
    const gone = await h.grant('feed');
    await revoke(gone.grantId);
    expect((await send(h.url, '/feed/events', { headers: bearer(gone.token) })).status).toBe(401);
    const live = await h.grant('feed');
    const s = await stream('/feed/events', live.token);
    await flowing(s, 10);
    s.stop();
  });
});
