import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCRIPTS, type ScriptName } from '../../shared/grants/lua/load.js';
import { grantIdOf, type NewRequest } from '../../shared/grants/store.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import type { CookieBrowser } from '../support/cookie-browser.js';
import { REDIS_URL } from '../support/redis.js';
import { monitorRedis } from '../support/redis-monitor.js';
import { newRequestInput } from '../support/requests.js';
import {
  ACCESS_HOST,
  HOSTED_HOST,
  type SignInHarness,
  startSignInHarness,
} from '../support/signin-harness.js';

/**
 * Grants bound to the person, through the real authorizer: sessions from a real OpenID provider,
 * grants minted by the real store in real Redis, an echo upstream that shows what it was sent.
 */
const ALICE = { sub: 'idp-alice', email: 'Alice@Example.com', email_verified: true, name: 'Alice' };
const BOB = { sub: 'idp-bob', email: 'bob@example.com', email_verified: true, name: 'Bob' };
const CAROL = { sub: 'idp-carol', email: 'carol@example.com', email_verified: true, name: 'Carol' };
/** Carol's grants, for the tests that end them (alice holds others on the same resources). */
const carols = { requester: 'U0CAROL' as SlackUserId, email: 'carol@example.com' };
const HOSTED = `http://${HOSTED_HOST}`;
const SHARED = `http://${ACCESS_HOST}/shared`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let h: SignInHarness;
beforeAll(async () => {
  h = await startSignInHarness({ users: [ALICE, BOB, CAROL] });
});
afterAll(() => h.close());

/** A browser signed in as `sub`, on the host of `url` (following the whole login, handoff included). */
async function signedIn(sub: string, url: string): Promise<CookieBrowser> {
  h.idp.signInAs(sub);
  const b = h.browser();
  const { last } = await b.follow(url);
  expect(new URL(last.url).host).toBe(new URL(url).host);
  return b;
}

/** A grant through the real store (auto-approved), held by alice unless told otherwise. */
async function grant(over: Partial<NewRequest>): Promise<{ gid: GrantId; expiresAt: number }> {
  const r = newRequestInput({ requester: 'U0ALICE' as SlackUserId, email: 'alice@example.com', ...over });
  const { decision } = await h.store.transitions.createRequest(r, 'jitgate');
  if (decision.outcome !== 'granted') throw new Error('not granted');
  return { gid: grantIdOf(r.id), expiresAt: decision.expiresAt };
}

const echoed = (body: string) =>
  JSON.parse(body) as { method: string; path: string; headers: Record<string, string> };

describe('the plain URL, for the holder of a grant', () => {
  it('when the person signed in holds a live grant, then the plain URL reaches the upstream with their identity headers, and nobody else gets in', async () => {
    const { gid } = await grant({ resource: 'hosted', role: 'access' });
    const alice = await signedIn(ALICE.sub, `${HOSTED}/dash?x=1`);
    const page = await alice.get(`${HOSTED}/dash?x=1`);
    expect(page.status).toBe(200);
    const seen = echoed(page.body);
    expect(seen.path).toBe('/dash?x=1');
    expect(seen.headers).toMatchObject({
      'x-jit-user': 'U0ALICE',
      'x-jit-email': 'alice@example.com',
      'x-jit-grant': gid,
      'x-jit-role': 'access',
    });
    expect(seen.headers['x-jit-assertion']).toMatch(/^ey/);
    // No jitgate cookie reaches the upstream.
    expect(seen.headers.cookie ?? '').not.toContain('jitgate_');

    const bob = await signedIn(BOB.sub, `${HOSTED}/dash`);
    const refused = await bob.get(`${HOSTED}/dash`);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('no_grant');
  });

  it('when the grant is revoked, then the very next request is refused, and says so', async () => {
    const { gid } = await grant({ resource: 'hosted', role: 'access', ...carols });
    const carol = await signedIn(CAROL.sub, `${HOSTED}/`);
    expect((await carol.get(`${HOSTED}/a`)).status).toBe(200);
    await h.store.revoke(gid, 'U0BOSS' as SlackUserId, 'done');
    const after = await carol.get(`${HOSTED}/a`, { accept: 'application/json' });
    expect(after.status).toBe(401);
    expect(JSON.parse(after.body)).toMatchObject({ error: 'grant_revoked' });
  });

  it('when a 3-second grant runs out, then the next request is refused as expired (no worker needed)', async () => {
    // Signed in first, so that the grant's three seconds are spent on the requests that judge it.
    const carol = await signedIn(CAROL.sub, `${SHARED}/`);
    const { expiresAt } = await grant({ resource: 'shared', role: 'viewer', durationMs: 3_000, ...carols });
    expect((await carol.get(`${SHARED}/b`)).status).toBe(200);
    await sleep(Math.max(0, expiresAt - Date.now()) + 50);
    const after = await carol.get(`${SHARED}/b`, { accept: 'application/json' });
    expect(after.status).toBe(401);
    expect(JSON.parse(after.body)).toMatchObject({ error: 'grant_expired' });
  });
});

describe('several grants for one resource (roles)', () => {
  it('when the person holds a viewer and an editor grant, then each request goes through the grant whose role allows it, and only what neither allows is refused', async () => {
    const viewer = await grant({ resource: 'shared', role: 'viewer' });
    const alice = await signedIn(ALICE.sub, `${SHARED}/`);
    // Viewer only: a write is refused, naming the role that would allow it.
    const denied = await alice.get(`${SHARED}/api/x`, { method: 'POST', accept: 'application/json' });
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.body)).toMatchObject({
      error: 'method_not_allowed',
      hint: expect.stringContaining('shared/editor'),
    });

    const editor = await grant({ resource: 'shared', role: 'editor', durationMs: 30_000 });
    const read = echoed((await alice.get(`${SHARED}/d/1`)).body);
    expect(read.headers).toMatchObject({ 'x-jit-role': 'viewer', 'x-jit-grant': viewer.gid });
    const write = await alice.get(`${SHARED}/api/x`, { method: 'POST', accept: 'application/json' });
    expect(write.status).toBe(200);
    expect(echoed(write.body).headers).toMatchObject({ 'x-jit-role': 'editor', 'x-jit-grant': editor.gid });
    const neither = await alice.get(`${SHARED}/d/1`, { method: 'DELETE', accept: 'application/json' });
    expect(JSON.parse(neither.body)).toMatchObject({ error: 'method_not_allowed' });
  });
});

describe('the cost of a signed-in request', () => {
  it('when a signed-in person makes requests, then each costs exactly ONE Redis call (the person-access script) and nothing else', async () => {
    await grant({ resource: 'hosted', role: 'access' });
    const alice = await signedIn(ALICE.sub, `${HOSTED}/`);
    expect((await alice.get(`${HOSTED}/warm`)).status).toBe(200); // the script is loaded on this connection
    const bySha = new Map(
      (Object.keys(SCRIPTS) as ScriptName[]).map((name) => [
        createHash('sha1').update(SCRIPTS[name]).digest('hex'),
        name,
      ]),
    );
    const calls: string[] = [];
    const monitor = await monitorRedis(REDIS_URL, ({ source, args }) => {
      if (source === 'lua' || !args.some((a) => a.startsWith(`{${h.test.prefix}}`))) return;
      const name = args[0]!.toLowerCase();
      calls.push(name === 'evalsha' ? (bySha.get(args[1]!) ?? 'evalsha?') : name);
    });
    try {
      for (let i = 0; i < 5; i++) expect((await alice.get(`${HOSTED}/n/${i}`)).status).toBe(200);
      await h.test.redis.get(`{${h.test.prefix}}:end`);
      for (let i = 0; i < 100 && !calls.includes('get'); i++) await sleep(10);
    } finally {
      monitor.close();
    }
    // The usage counter writes in batches (record-use), never per request; everything else is the read.
    const perRequest = calls.filter((c) => c !== 'record-use' && c !== 'get');
    expect(perRequest).toEqual(Array(5).fill('person-access'));
  });
});
