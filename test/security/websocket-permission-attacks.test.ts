import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  auditEvents,
  bearer,
  eventually,
  type Harness,
  send,
  startHarness,
} from '../e2e/authorizer-harness.js';
import { countFigures } from './figures.js';

/**
 * A WebSocket is a two-way channel past every method and path rule of HTTP: a role limited to GET and
 * HEAD that may upgrade can send anything the upstream's socket protocol accepts. So an upgrade needs
 * a role that says `websocket: true` (the harness's `stream` resource: viewer GET/HEAD, admin every
 * method, talker GET with websocket: true). These try to get a socket without it, every way an
 * upgrade can be spelled.
 */
countFigures('attack');

let h: Harness;
let viewer: string;
let admin: string;
let talker: string;

beforeAll(async () => {
  h = await startHarness();
  viewer = (await h.grant('stream', 'viewer')).token;
  admin = (await h.grant('stream', 'admin')).token;
  talker = (await h.grant('stream', 'talker')).token;
});
afterAll(async () => h?.close());

// After every case: the authorizer still answers, and the role that may open sockets still can.
afterEach(async () => {
  expect((await send(h.url, '/_jitgate/healthz')).status).toBe(200);
});

const port = () => Number(new URL(h.url).port);
const wsUrl = (path: string) => `${h.url.replace('http://', 'ws://')}${path}`;

/** Raw bytes in, what came back until the server closed or went quiet. */
function raw(bytes: string, quietMs = 500): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port(), '127.0.0.1', () => socket.write(bytes));
    let data = '';
    socket.on('data', (c) => {
      data += c.toString('latin1');
    });
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
    socket.setTimeout(quietMs, () => socket.destroy());
  });
}

/** Tries the upgrade with the ws client: resolves the refusal's status, rejects on a 101. */
function tryUpgrade(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(path), { headers });
    ws.once('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', () => {});
  });
}

const upgradeRequest = (token: string, extra = '', upgrade = 'websocket', connection = 'Upgrade') =>
  'GET /stream/socket HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
  `Authorization: Bearer ${token}\r\nConnection: ${connection}\r\nUpgrade: ${upgrade}\r\n` +
  `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;

describe('attack: a WebSocket from a role that may not open one', () => {
  it('when a GET/HEAD viewer upgrades, then 403 method_not_allowed before any 101 and the upstream never sees it', async () => {
    const before = h.ws.upgrades.length;
    expect(await tryUpgrade('/stream/socket', bearer(viewer))).toBe(403);
    expect(h.ws.upgrades.length).toBe(before);
  });

  it('when a role with every method but no websocket: true upgrades, then it is refused too', async () => {
    const before = h.ws.upgrades.length;
    expect(await tryUpgrade('/stream/', bearer(admin))).toBe(403);
    expect(h.ws.upgrades.length).toBe(before);
  });

  it('when the viewer spells the upgrade oddly (upper case, extra tokens in Connection, HEAD instead of GET), then no 101 ever', async () => {
    const answers = await Promise.all([
      raw(upgradeRequest(viewer, '', 'WebSocket', 'keep-alive, Upgrade')),
      raw(upgradeRequest(viewer, '', 'WEBSOCKET', 'UPGRADE')),
      raw(upgradeRequest(viewer, 'X-HTTP-Method-Override: POST\r\n')),
      raw(upgradeRequest(viewer).replace('GET ', 'HEAD ')),
    ]);
    for (const answer of answers) {
      expect(answer).not.toMatch(/^HTTP\/1\.1 101/);
      expect(answer).toMatch(/^HTTP\/1\.1 (403|400)/);
    }
  });

  it("when the viewer adds a second Authorization header with the talker's token, then the token that counts is still judged by its own role", async () => {
    // Two Authorization headers: Node keeps the first; the talker's never decides for the viewer.
    const answer = await raw(upgradeRequest(viewer, `Authorization: Bearer ${talker}\r\n`));
    expect(answer).not.toMatch(/^HTTP\/1\.1 101/);
  });

  it('when the viewer is refused an upgrade, then the refusal is audited as access.denied with its role', async () => {
    await tryUpgrade('/stream/audited', bearer(viewer));
    await eventually(async () => {
      const denied = (await auditEvents(h)).filter(
        (e) => e.type === 'access.denied' && e.resource === 'stream' && e.role === 'viewer',
      );
      expect(denied.length).toBeGreaterThan(0);
      expect(denied.at(-1)).toMatchObject({ reason: 'method_not_allowed' });
    });
  });

  it('when the viewer uses plain HTTP, then GET still works: only the upgrade is refused', async () => {
    // The stream upstream answers plain HTTP with 426; reaching it is what matters.
    expect((await send(h.url, '/stream/', { headers: bearer(viewer) })).status).toBe(426);
  });

  it('when the talker (websocket: true) upgrades, then the socket opens and messages flow', async () => {
    const ws = new WebSocket(wsUrl('/stream/socket'), { headers: bearer(talker) });
    const hello = await new Promise<{ headers: Record<string, string> }>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(String(d))));
      ws.once('unexpected-response', (_q, res) => reject(new Error(`refused ${res.statusCode}`)));
    });
    expect(hello.headers['x-jit-role']).toBe('talker');
    ws.close();
  });
});
