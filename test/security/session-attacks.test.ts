import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { NewRequest } from '../../shared/grants/store.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import { createLogger } from '../../shared/log.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { connectRedis } from '../../shared/redis/connect.js';
import { startSystem } from '../../system/start.js';
import type { CookieBrowser } from '../support/cookie-browser.js';
import { deletePrefix, REDIS_URL, waitReady } from '../support/redis.js';
import {
  ACCESS_HOST,
  HOSTED_HOST,
  type SignInHarness,
  startSignInHarness,
} from '../support/signin-harness.js';
import { startWsEchoUpstream, type WsUpstream } from '../support/upstreams.js';
import { countFigures } from './figures.js';

/**
 * Sessions attacked over their lifetime, against the real stack: a session past
 * JITGATE_SESSION_TTL, a logout on another authorizer of the same Redis, a grant revoked while a
 * signed-in WebSocket is open, Redis gone while someone is signed in, and Sign in with Slack people
 * who share an address or a user id with someone else.
 */
countFigures('attack');

const ALICE = { sub: 'idp-alice', email: 'alice@example.com', email_verified: true };
const JSON_ACCEPT = 'application/json';
const SESSION = 'jitgate_session';
const HOSTED = `http://${HOSTED_HOST}`;
const live = (ws: WsUpstream) => `  live:
    upstream: ${ws.url}
    match: { pathPrefix: /live }
    browser: shared-origin
    websocket: true
    approvers: { users: [U0BOSS] }
`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function signedIn(h: SignInHarness, sub: string, url: string): Promise<CookieBrowser> {
  h.idp.signInAs(sub);
  const b = h.browser();
  const { last } = await b.follow(url);
  expect(new URL(last.url).host).toBe(new URL(url).host);
  return b;
}

/** A WebSocket to /live/chat on the sign-in host with this session cookie, once the upstream said hello. */
async function openSocket(h: SignInHarness, session: string): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${h.authorizerPort}/live/chat`, {
    headers: { host: ACCESS_HOST, cookie: `${SESSION}=${session}` },
  });
  await new Promise((resolve, reject) => {
    socket.once('message', resolve);
    socket.once('error', reject);
  });
  return socket;
}

const grant = async (h: SignInHarness, over: Partial<NewRequest> = {}): Promise<GrantId> =>
  (await h.grant(over)).gid;

describe('a session that outlives its TTL', () => {
  it('when JITGATE_SESSION_TTL (2 s) has passed, then the session counts on no host, though the grant is live', async () => {
    const ws = await startWsEchoUpstream();
    const h = await startSignInHarness({ users: [ALICE], sessionTtlMs: 2_000, extraResources: live(ws) });
    try {
      await grant(h);
      await grant(h, { resource: 'live', role: 'access' });
      const b = await signedIn(h, ALICE.sub, `${HOSTED}/`);
      expect((await b.get(`${HOSTED}/`)).status).toBe(200);
      // A socket opened with the session ends with it, though its grant runs for an hour.
      const socket = await openSocket(h, b.cookie(ACCESS_HOST, SESSION)!);
      const socketClosed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
      const copies = { hosted: b.cookie(HOSTED_HOST, SESSION)!, access: b.cookie(ACCESS_HOST, SESSION)! };
      await sleep(2_100);
      const thief = h.browser();
      thief.setCookie(HOSTED_HOST, SESSION, copies.hosted);
      thief.setCookie(ACCESS_HOST, SESSION, copies.access);
      expect((await thief.get(`${HOSTED}/`, { accept: JSON_ACCEPT })).status).toBe(401);
      // Nor is the dead session used to hand a fresh one to a host: the browser goes to the IdP.
      const { last } = await thief.follow(
        `http://${ACCESS_HOST}/_jitgate/signin?return=${encodeURIComponent(`${HOSTED}/`)}`,
        { until: (a) => a.location?.startsWith(h.idp.issuer) === true },
      );
      expect(new URL(last.location!).origin).toBe(h.idp.issuer);
      expect(await socketClosed).toBeLessThanOrEqual(Date.now());
    } finally {
      await h.close();
      await ws.close();
    }
  });
});

describe('one Redis, two authorizers; a signed-in WebSocket', () => {
  let h: SignInHarness;
  let ws: WsUpstream;
  beforeAll(async () => {
    ws = await startWsEchoUpstream();
    h = await startSignInHarness({
      users: [ALICE],
      // A resource reachable only from 10.0.0.0/8: the tests come from 127.0.0.1.
      extraResources: `${live(ws)}  fenced:
    upstream: ${ws.url}
    match: { pathPrefix: /fenced }
    browser: shared-origin
    networks: [10.0.0.0/8]
    approvers: { users: [U0BOSS] }
`,
    });
  });
  afterAll(async () => {
    await h.close();
    await ws.close();
  });

  it('when the person logs out on another authorizer of the same Redis, then the session is dead on this one too', async () => {
    await grant(h);
    const b = await signedIn(h, ALICE.sub, `${HOSTED}/`);
    expect((await b.get(`${HOSTED}/`)).status).toBe(200);
    const other = await startSystem({
      roles: ['authorizer'],
      overrides: {
        redis: h.test.redis,
        prefix: h.test.prefix,
        policy: loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 1h }
resources:
  other:
    upstream: ${h.echo.url}
    match: { pathPrefix: /other }
    approvers: { users: [U0BOSS] }
`),
        signingKeys: h.keys,
        publicUrl: h.publicUrl,
        log: createLogger('second-authorizer', 'silent'),
        authorizerPort: 0,
        authorizerHost: '127.0.0.1',
        authorizerTimings: { upstreamTimeoutMs: 2_000, usageFlushMs: 200, shutdownGraceMs: 200 },
        signIn: h.idp.signInConfig(),
      },
    });
    try {
      const port = other.authorizer!.port;
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/_jitgate/logout',
            headers: { host: HOSTED_HOST, cookie: `${SESSION}=${b.cookie(HOSTED_HOST, SESSION)}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
    } finally {
      await other.stop();
    }
    expect((await b.get(`${HOSTED}/`, { accept: JSON_ACCEPT })).status).toBe(401);
  });

  it('when the grant is revoked while a signed-in WebSocket is open, then the socket is cut, as for a token', async () => {
    const gid = await grant(h, { resource: 'live', role: 'access' });
    const b = await signedIn(h, ALICE.sub, `http://${ACCESS_HOST}/live/`);
    const socket = new WebSocket(`ws://127.0.0.1:${h.authorizerPort}/live/chat`, {
      headers: { host: ACCESS_HOST, cookie: `${SESSION}=${b.cookie(ACCESS_HOST, SESSION)}` },
    });
    const hello = await new Promise<string>((resolve, reject) => {
      socket.once('message', (d) => resolve(String(d)));
      socket.once('error', reject);
    });
    expect(JSON.parse(hello).headers['x-jit-user']).toBe('U0ALICE');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const started = Date.now();
    await h.store.transitions.revoke(gid, 'U0BOSS' as SlackUserId, 'test');
    await closed;
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('when the person logs out while a signed-in WebSocket is open, then the socket is cut too (the grant is still live)', async () => {
    await grant(h, { resource: 'live', role: 'access' });
    const b = await signedIn(h, ALICE.sub, `http://${ACCESS_HOST}/live/`);
    const socket = await openSocket(h, b.cookie(ACCESS_HOST, SESSION)!);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const started = Date.now();
    expect((await b.get(`http://${ACCESS_HOST}/_jitgate/logout`)).status).toBe(200);
    await closed;
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("when the holder's session comes from outside the resource's networks, then it is refused, also with a forged X-Forwarded-For", async () => {
    await grant(h, { resource: 'fenced', role: 'access' });
    const b = await signedIn(h, ALICE.sub, `http://${ACCESS_HOST}/live/`);
    const spoofs: Record<string, string>[] = [
      {},
      { 'x-forwarded-for': '10.1.2.3' },
      { forwarded: 'for=10.1.2.3' },
    ];
    for (const headers of spoofs) {
      const answer = await b.get(`http://${ACCESS_HOST}/fenced/x`, { accept: JSON_ACCEPT, headers });
      expect(answer.status).toBe(403);
      expect(answer.body).toMatch(/network/);
    }
  });

  it('when a WebSocket upgrade comes with no session or a copied session from another host, then it is refused before the upstream', async () => {
    await grant(h, { resource: 'live', role: 'access' });
    const b = await signedIn(h, ALICE.sub, `${HOSTED}/`);
    const before = ws.upgrades.length;
    for (const cookie of ['', `${SESSION}=${b.cookie(HOSTED_HOST, SESSION)}`]) {
      const status = await new Promise<number>((resolve) => {
        const socket = new WebSocket(`ws://127.0.0.1:${h.authorizerPort}/live/chat`, {
          headers: { host: ACCESS_HOST, ...(cookie ? { cookie } : {}) },
        });
        socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        socket.once('open', () => resolve(101));
        socket.once('error', () => {});
      });
      expect(status).toBe(401);
    }
    expect(ws.upgrades.length).toBe(before);
  });
});

describe('Sign in with Slack: the same address, another workspace', () => {
  let h: SignInHarness;
  beforeAll(async () => {
    h = await startSignInHarness({
      matchBy: 'slack',
      users: [
        // Bob's Slack account shows Alice's address: with Slack, only the user id counts.
        {
          sub: 'bob',
          email: 'alice@example.com',
          email_verified: true,
          slack: { user: 'U0BOB', team: 'T0ACME' },
        },
        // Alice's user id, but signed in through another workspace.
        {
          sub: 'alice-other',
          email: 'alice@other.example',
          email_verified: true,
          slack: { user: 'U0ALICE', team: 'T0OTHER' },
        },
        {
          sub: 'alice',
          email: 'alice@example.com',
          email_verified: true,
          slack: { user: 'U0ALICE', team: 'T0ACME' },
        },
      ],
    });
  });
  afterAll(() => h.close());

  it("when a Slack user whose profile shows Alice's address signs in, then Alice's grant is not theirs", async () => {
    await grant(h, { team: 'T0ACME' });
    const bob = await signedIn(h, 'bob', `${HOSTED}/`);
    const answer = await bob.get(`${HOSTED}/`, { accept: JSON_ACCEPT });
    expect(answer.status).toBe(403);
    expect(answer.body).toMatch(/no_grant/);
  });

  it("when Alice's user id signs in through another workspace, then the grant made in hers does not count", async () => {
    await grant(h, { team: 'T0ACME' });
    const stranger = await signedIn(h, 'alice-other', `${HOSTED}/`);
    expect((await stranger.get(`${HOSTED}/`, { accept: JSON_ACCEPT })).status).toBe(403);
    // The control: Alice in her own workspace gets in.
    const alice = await signedIn(h, 'alice', `${HOSTED}/`);
    expect((await alice.get(`${HOSTED}/`)).status).toBe(200);
  });

  it("when Alice's user id signed in through another workspace opens her command-line redeem link, then it is refused as not the holder and nothing is consumed", async () => {
    const gid = await grant(h, { team: 'T0ACME', resource: 'app' });
    const code = await h.store.codes.createRedeemCode(gid);
    const link = `http://${ACCESS_HOST}/_jitgate/redeem?code=${code}&for=command-line`;
    const stranger = await signedIn(h, 'alice-other', `${HOSTED}/`);
    const refused = await stranger.get(link);
    expect(refused.status).toBe(403);
    expect(refused.body).not.toMatch(/Bearer [\w-]+\.[\w-]+\./);
    expect(await h.store.codes.redeemCodeGrant(code)).toBe(gid);
    // The control: Alice in her own workspace gets the token page.
    const alice = await signedIn(h, 'alice', `${HOSTED}/`);
    const page = await alice.get(link);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Your bearer token for app');
  });
});

describe('Redis gone while signed in', () => {
  it('when Redis cannot be reached, then the session, a copied access cookie, the handoff, the sign-in route and the callback all refuse: never a 200', async () => {
    const h = await startSignInHarness({ users: [ALICE] });
    try {
      await grant(h, { resource: 'shared', role: 'viewer' });
      const b = await signedIn(h, ALICE.sub, `http://${ACCESS_HOST}/shared/`);
      const handoff = await b.follow(
        `http://${ACCESS_HOST}/_jitgate/signin?return=${encodeURIComponent(`${HOSTED}/`)}`,
        { until: (a) => a.location?.includes('/_jitgate/session?code=') === true },
      );
      const code = handoff.last.location!;
      h.test.redis.disconnect();
      const answers = [
        await b.get(`http://${ACCESS_HOST}/shared/x`),
        await b.get(`http://${ACCESS_HOST}/shared/x`, { accept: JSON_ACCEPT }),
        await b.get(code),
        await b.get(
          `http://${ACCESS_HOST}/_jitgate/signin?return=${encodeURIComponent(`${HOSTED}/`)}&bind=${'A'.repeat(43)}`,
        ),
        await b.get(`http://${ACCESS_HOST}/_jitgate/logout`),
      ];
      for (const a of answers) expect(a.status).toBe(503);
    } finally {
      await h.authorizer.stop();
      await Promise.all([h.idp.close(), h.echo.close()]);
      const redis = connectRedis(REDIS_URL);
      await waitReady(redis);
      await deletePrefix(redis, h.test.prefix);
      redis.disconnect();
    }
  });
});
