import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { acceptFor } from '../../authorizer/proxy/tunnel.js';
import type { SlackUserId } from '../../shared/ids.js';
import { bearer, eventually, type Harness, send, startHarness } from '../support/authorizer-harness.js';
import { countFigures } from './figures.js';

/**
 * WebSocket upgrades an attacker shapes: upstreams that answer an upgrade without really upgrading
 * (so that a "tunnel" would let the client speak raw HTTP to them past the authorizer's checks and
 * headers), and revocations racing upgrades (an upgrade that completes after its grant was revoked
 * must not survive).
 */
countFigures('attack');

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
const upgradeHead = () => ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade'];

/** How a fake WebSocket upstream answers an upgrade whose key is `key`; after it, it echoes raw bytes. */
const FAKE_UPGRADES: Record<string, (key: string) => string> = {
  'no-accept': () => head(upgradeHead()),
  'wrong-accept': () =>
    head([...upgradeHead(), `Sec-WebSocket-Accept: ${randomBytes(20).toString('base64')}`]),
  'accept-for-another-key': (key) =>
    head([...upgradeHead(), `Sec-WebSocket-Accept: ${acceptFor(`${key}x`)}`]),
  'accept-of-the-key-itself': (key) => head([...upgradeHead(), `Sec-WebSocket-Accept: ${key}`]),
  'two-accepts': (key) =>
    head([...upgradeHead(), `Sec-WebSocket-Accept: ${acceptFor(key)}`, 'Sec-WebSocket-Accept: AAAA']),
  'accept-but-upgrade-to-h2c': (key) =>
    head([
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: h2c',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${acceptFor(key)}`,
    ]),
  'accept-but-no-upgrade-header': (key) =>
    head([
      'HTTP/1.1 101 Switching Protocols',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${acceptFor(key)}`,
    ]),
  'a-200-instead': () => head(['HTTP/1.1 200 OK', 'Content-Length: 2']) + 'ok',
  'a-426-instead': () => head(['HTTP/1.1 426 Upgrade Required', 'Content-Length: 0']),
  'a-302-instead': () => head(['HTTP/1.1 302 Found', 'Location: http://evil.example/', 'Content-Length: 0']),
  'garbage-instead': () => 'SSH-2.0-OpenSSH_9.6\r\n',
};

interface FakeWsUpstream {
  url: string;
  /** Bytes each connection received after its answer, by the path it was asked for. */
  receivedAfter: Map<string, string>;
  close(): Promise<void>;
}

async function startFakeWsUpstream(): Promise<FakeWsUpstream> {
  const receivedAfter = new Map<string, string>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    let answered: string | undefined;
    socket.on('data', (chunk: Buffer) => {
      if (answered !== undefined) {
        receivedAfter.set(answered, (receivedAfter.get(answered) ?? '') + chunk.toString('latin1'));
        socket.write(chunk);
        return;
      }
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const path = buffered.slice(0, buffered.indexOf('\r\n')).split(' ')[1]!.slice(1);
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(buffered)?.[1] ?? '';
      answered = path;
      receivedAfter.set(path, buffered.slice(end + 4));
      const answer =
        FAKE_UPGRADES[path] ??
        ((k: string) => head([...upgradeHead(), `Sec-WebSocket-Accept: ${acceptFor(k)}`]));
      socket.write(answer(key));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    receivedAfter,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A real WebSocket upstream that, for the grant ids in `revokeOnArrival`, revokes the grant when its
 * upgrade arrives and only then accepts it: the revocation lands between the authorizer's grant read
 * and the upstream's 101.
 */
async function startRacyWsUpstream(revoke: (grantId: string) => Promise<unknown>) {
  const revokeOnArrival = new Set<string>();
  const server = createHttpServer();
  const wss = new WebSocketServer({
    server,
    verifyClient: (info, done) => {
      const grantId = String(info.req.headers['x-jit-grant']);
      if (!revokeOnArrival.has(grantId)) return done(true);
      revoke(grantId).then(
        () => done(true),
        () => done(true),
      );
    },
  });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => ws.send(data));
    ws.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    revokeOnArrival,
    open: () => wss.clients.size,
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let h: Harness;
let fake: FakeWsUpstream;
let racy: Awaited<ReturnType<typeof startRacyWsUpstream>>;
let token: string;

const revoke = (grantId: string) =>
  h.store.transitions.revoke(grantId as never, 'U0BOSS' as SlackUserId, 'race');

beforeAll(async () => {
  fake = await startFakeWsUpstream();
  racy = await startRacyWsUpstream((id) => revoke(id));
  h = await startHarness({
    resources: `
  fakews:
    upstream: ${fake.url}
    match: { pathPrefix: /fakews }
    approvers: { users: [U0BOSS] }
    websocket: true
  racy:
    upstream: ${racy.url}
    match: { pathPrefix: /racy }
    approvers: { users: [U0BOSS] }
    websocket: true
`,
  });
  token = (await h.grant('fakews')).token;
});
afterAll(async () => {
  await h?.close();
  await fake?.close();
  await racy?.close();
});

/** An upgrade over a raw socket, with `after` sent right behind it; everything the client got back. */
function rawUpgrade(path: string, after: string, key = KEY): Promise<string> {
  const { hostname, port } = new URL(h.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        head([
          `GET ${path} HTTP/1.1`,
          'Host: x',
          `Authorization: Bearer ${token}`,
          'Connection: Upgrade',
          'Upgrade: websocket',
          'Sec-WebSocket-Version: 13',
          `Sec-WebSocket-Key: ${key}`,
        ]) + after,
      );
    });
    let got = '';
    let tried = false;
    socket.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      // Once an answer is in, try to talk raw HTTP to whatever is behind it; a tunnel ends the try.
      if (!tried && got.includes('\r\n\r\n') && !socket.destroyed) {
        tried = true;
        socket.write('GET /admin/after HTTP/1.1\r\nHost: x\r\n\r\n');
        if (got.startsWith('HTTP/1.1 101')) setTimeout(() => socket.end(), 100);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(got));
    socket.setTimeout(3_000, () => socket.destroy());
  });
}

describe('An upstream that does not really upgrade gets no tunnel', () => {
  for (const name of Object.keys(FAKE_UPGRADES)) {
    it(`when the upstream answers the upgrade with "${name}", then the client gets 502 and no raw byte crosses`, async () => {
      const smuggled = 'GET /admin/smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
      const got = await rawUpgrade(`/fakews/${name}`, smuggled);
      expect(got).toMatch(/^HTTP\/1\.1 502 /);
      expect(got).not.toContain('101');
      expect(JSON.parse(got.slice(got.indexOf('\r\n\r\n') + 4))).toMatchObject({
        error: 'upstream_unreachable',
      });
      // Neither the bytes sent behind the upgrade nor those sent after the answer reached the upstream.
      await new Promise((r) => setTimeout(r, 100));
      expect(fake.receivedAfter.get(name) ?? '').not.toContain('/admin/');
      expect((await send(h.url, '/_jitgate/healthz')).status).toBe(200);
    });
  }

  it('when the upstream answers with the right accept, then the tunnel opens and carries bytes both ways', async () => {
    const got = await rawUpgrade('/fakews/honest', '');
    expect(got).toMatch(/^HTTP\/1\.1 101 /);
    expect(got.toLowerCase()).toContain(`sec-websocket-accept: ${acceptFor(KEY)}`.toLowerCase());
    // The fake upstream echoes what crossed: the client's bytes went through the tunnel.
    await eventually(() => expect(fake.receivedAfter.get('honest')).toContain('/admin/after'));
  });

  it('when the client sends another key, then only the accept for that key opens a tunnel', async () => {
    const key = randomBytes(16).toString('base64');
    const opened = (await rawUpgrade('/fakews/honest', '', key)).toLowerCase();
    expect(opened).toContain(`sec-websocket-accept: ${acceptFor(key)}`.toLowerCase());
    expect(await rawUpgrade('/fakews/accept-for-another-key', '', key)).toMatch(/^HTTP\/1\.1 502 /);
  });
});

describe('Revocations racing upgrades', () => {
  /** Opens a WebSocket and resolves when it is over: refused, or closed after opening. */
  function upgradeOutcome(url: string, grantToken: string): { settled: Promise<'refused' | 'closed'> } {
    const ws = new WebSocket(url, { headers: bearer(grantToken) });
    ws.on('error', () => {});
    const settled = new Promise<'refused' | 'closed'>((resolve) => {
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        resolve('refused');
      });
      ws.once('close', () => resolve('closed'));
    });
    return { settled };
  }

  it("when 60 upgrades race their grant's revocation (at the upstream, before, with and after the upgrade), then 0 survive", async () => {
    const wsUrl = `${h.url.replace('http://', 'ws://')}/racy/`;
    const tries = 60;
    let survivors = 0;
    const outcomes: Record<string, number> = {};
    for (let batch = 0; batch < tries / 10; batch += 1) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, j) => {
          const i = batch * 10 + j;
          const grant = await h.grant('racy');
          // A third of the tries revoke when the upstream receives the upgrade (after the grant read,
          // before the 101); the rest at 0 to 8 ms after the upgrade starts, across the handshake.
          if (i % 3 === 0) racy.revokeOnArrival.add(grant.grantId);
          const { settled } = upgradeOutcome(wsUrl, grant.token);
          if (i % 3 !== 0) {
            await new Promise((r) => setTimeout(r, i % 9));
            await revoke(grant.grantId);
          }
          const outcome = await Promise.race([
            settled,
            new Promise<'survived'>((r) => setTimeout(() => r('survived'), 3_000)),
          ]);
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
          if (outcome === 'survived') survivors += 1;
        }),
      );
    }
    expect({ survivors, tries }).toEqual({ survivors: 0, tries });
    console.log(
      `[jitgate figures] websocket-attacks: 0 of ${tries} racing upgrades survived (${JSON.stringify(outcomes)})`,
    );
    await eventually(() => expect(racy.open()).toBe(0));
  });
});
