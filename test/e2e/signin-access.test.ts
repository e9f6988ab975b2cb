import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dmChannelOf, type SlackStandin, startSlackStandin } from '../../dev/slack/index.js';
import { readAudit } from '../../shared/audit/chain.js';
import { systemClock } from '../../shared/clock.js';
import { SCRIPTS, type ScriptName } from '../../shared/grants/lua/load.js';
import { grantIdOf, type NewRequest } from '../../shared/grants/store.js';
import type { SlackUserId } from '../../shared/ids.js';
import { createLogger } from '../../shared/log.js';
import { signAccessToken } from '../../shared/tokens/index.js';
import { type System, startSystem } from '../../system/start.js';
import type { CookieBrowser } from '../support/cookie-browser.js';
import { REDIS_TARGET, serverUrlFor } from '../support/redis.js';
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
let slack: SlackStandin;
let worker: System;
beforeAll(async () => {
  h = await startSignInHarness({ users: [ALICE, BOB, CAROL] });
  // The bot's worker beside it, on the same Redis and prefix: it turns the authorizer's jobs into DMs.
  const botToken = 'xoxb-signin-access';
  slack = await startSlackStandin({ unknownUsers: 'derived', tokens: [botToken] });
  worker = await startSystem({
    roles: ['worker'],
    overrides: {
      redis: h.test.redis,
      redisUrl: REDIS_TARGET,
      prefix: h.test.prefix,
      policy: h.policy,
      slack: { botToken, signingSecret: 'unused-by-the-worker' },
      slackApiUrl: slack.apiUrl,
      publicUrl: h.publicUrl,
      log: createLogger('signin-access-worker', 'silent'),
      // The same sign-in settings as the authorizer's: the bot's side then gives plain URLs in DMs.
      signIn: h.idp.signInConfig(),
    },
  });
});
afterAll(async () => {
  await worker?.stop();
  await slack?.close();
  await h?.close();
});

/** A browser signed in as `sub`, on the host of `url` (following the whole login, handoff included). */
async function signedIn(sub: string, url: string): Promise<CookieBrowser> {
  h.idp.signInAs(sub);
  const b = h.browser();
  const { last } = await b.follow(url);
  expect(new URL(last.url).host).toBe(new URL(url).host);
  return b;
}

/** A grant through the real store (auto-approved), held by alice unless told otherwise. */
const grant = (over: Partial<NewRequest>) => h.grant(over);

/** How many requests of grant `gid` the upstream has seen. */
const echoedCount = (gid: string) => h.echo.requests.filter((r) => r.headers['x-jit-grant'] === gid).length;

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
    // The page says who is signed in, what they lack and what to type in Slack.
    expect(refused.body).toContain('Signed in as bob@example.com — you have no access to hosted');
    expect(refused.body).toContain('/access hosted');
  });

  it('when the grant is revoked, then the very next request is refused, and says so', async () => {
    const { gid } = await grant({ resource: 'hosted', role: 'access', ...carols });
    const carol = await signedIn(CAROL.sub, `${HOSTED}/`);
    expect((await carol.get(`${HOSTED}/a`)).status).toBe(200);
    await h.store.transitions.revoke(gid, 'U0BOSS' as SlackUserId, 'done');
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
    expect(JSON.parse(after.body)).toMatchObject({
      error: 'grant_expired',
      message: expect.stringMatching(
        /^Your access to shared \(viewer\) expired at \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/,
      ),
    });
    const page = await carol.get(`${SHARED}/b`);
    expect(page.body).toContain('Signed in as carol@example.com — you have no access to shared');
    expect(page.body).toMatch(/expired at/);
  });
});

/** Every audit event of the harness's prefix, oldest first. */
async function auditEvents(): Promise<Record<string, unknown>[]> {
  const events: Record<string, unknown>[] = [];
  for await (const { fields } of readAudit(h.test.redis, h.test.keys))
    events.push(JSON.parse(fields.e ?? '{}'));
  return events;
}

describe('redeem links and cookies bound to the person', () => {
  it("when someone else signed in opens a holder's redeem link, then it is refused, nothing is consumed, the holder is DMed and grant.redeem_refused is audited with the client address", async () => {
    const { gid } = await grant({ resource: 'hosted', role: 'access' });
    const link = `http://${ACCESS_HOST}/_jitgate/redeem?code=${await h.store.codes.createRedeemCode(gid)}`;
    const bob = await signedIn(BOB.sub, `${SHARED}/`);

    const refused = await bob.get(link);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('not_the_holder');
    expect(refused.body).toContain('signed in as bob@example.com');
    expect(refused.body).toContain('/access hosted');
    expect(refused.cookies).toEqual([]);
    // Nothing consumed: the code still names its grant.
    expect(await h.store.codes.redeemCodeGrant(new URL(link).searchParams.get('code')!)).toBe(gid);

    const dm = await slack.waitFor('chat.postMessage', (c) =>
      String(c.body.text).includes('Someone else opened your link'),
    );
    expect(String(dm.body.text)).toContain('bob@example.com');
    expect(String(dm.body.channel)).toBe(dmChannelOf('U0ALICE'));
    const event = (await auditEvents()).find((e) => e.type === 'grant.redeem_refused' && e.grantId === gid);
    expect(event).toMatchObject({
      actor: 'bob@example.com',
      subject: 'U0ALICE',
      resource: 'hosted',
      client: '127.0.0.1',
    });

    // Opening it again does not DM the holder twice.
    expect((await bob.get(link)).status).toBe(403);
    await sleep(300);
    expect(
      slack.callsTo('chat.postMessage').filter((c) => String(c.body.text).includes('Someone else')),
    ).toHaveLength(1);
  });

  it('when a browser without a session opens the link, then it signs in first and comes back to it; as the holder it is redeemed, and the access cookie works with her session', async () => {
    const { gid } = await grant({ resource: 'hosted', role: 'access', ...carols });
    const link = `http://${ACCESS_HOST}/_jitgate/redeem?code=${await h.store.codes.createRedeemCode(gid)}`;
    h.idp.signInAs(CAROL.sub);
    const carol = h.browser();
    const { chain, last } = await carol.follow(link);
    expect(new URL(chain[0]!.location!).origin).toBe(h.idp.issuer);
    expect(chain.some((a) => a.url === link && a.status === 303 && a.location?.includes(HOSTED_HOST))).toBe(
      true,
    );
    expect(last.url).toBe(`${HOSTED}/`);
    expect(last.status).toBe(200);
    expect(carol.cookie(HOSTED_HOST, 'jitgate_hosted')).toBeDefined();
    expect(echoed(last.body).headers['x-jit-grant']).toBe(gid);
  });

  it("when the holder's access cookie is copied into another person's browser, or one without a session, then it gives nothing", async () => {
    const { gid } = await grant({ resource: 'hosted', role: 'access', ...carols });
    const link = `http://${ACCESS_HOST}/_jitgate/redeem?code=${await h.store.codes.createRedeemCode(gid)}`;
    const carol = await signedIn(CAROL.sub, `${HOSTED}/`);
    await carol.follow(link);
    const stolen = carol.cookie(HOSTED_HOST, 'jitgate_hosted')!;
    expect(stolen).toBeDefined();

    const bob = await signedIn(BOB.sub, `${HOSTED}/`);
    const reached = echoedCount(gid);
    bob.setCookie(HOSTED_HOST, 'jitgate_hosted', stolen);
    const withBob = await bob.get(`${HOSTED}/x`, { accept: 'application/json' });
    expect(withBob.status).toBe(401);
    expect(JSON.parse(withBob.body)).toMatchObject({
      error: 'token_invalid',
      message: expect.stringContaining('issued to someone else'),
    });

    const nobody = h.browser();
    nobody.setCookie(HOSTED_HOST, 'jitgate_hosted', stolen);
    const api = await nobody.get(`${HOSTED}/x`, { accept: 'application/json' });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toMatchObject({ error: 'token_missing' });
    // A browser page is sent to sign in (and would then need to be carol).
    const page = await nobody.get(`${HOSTED}/x`);
    expect(page.status).toBe(303);
    expect(echoedCount(gid)).toBe(reached); // nothing of the thieves' reached the upstream
  });

  it('when a forwarded link is redeemed from a command line (Accept: application/json, no session), then it is refused with what to do instead, nothing is consumed, and the holder can still redeem it', async () => {
    const { gid } = await grant({ resource: 'hosted', role: 'access', ...carols });
    const code = await h.store.codes.createRedeemCode(gid);
    const link = `http://${ACCESS_HOST}/_jitgate/redeem?code=${code}`;
    const curl = h.browser();
    const refused = await curl.get(link, { accept: 'application/json' });
    expect(refused.status).toBe(401);
    expect(refused.headers.location).toBeUndefined(); // a refusal, not a sign-in redirect
    expect(refused.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(refused.body)).toEqual({
      error: 'signin_required',
      message: expect.stringContaining('only in a browser signed in as the person it was sent to'),
      hint: `Open ${link}&for=command-line in a browser signed in as yourself (the person it was sent to): it shows your token once, with the commands that use it.`,
    });
    expect(refused.body).not.toMatch(/eyJ[\w-]+\.eyJ/);
    expect(await h.store.codes.redeemCodeGrant(code)).toBe(gid); // still unused

    // The holder, signed in, redeems the same link as always.
    const carol = await signedIn(CAROL.sub, `${HOSTED}/`);
    const { last } = await carol.follow(link);
    expect(last.url).toBe(`${HOSTED}/`);
    expect(echoed(last.body).headers['x-jit-grant']).toBe(gid);
  });

  it("when someone else signed in redeems the holder's link with Accept: application/json, then it is refused as for a browser: nothing consumed, audited, the holder DMed once", async () => {
    const { gid } = await grant({ resource: 'app', role: 'access', ...carols });
    const code = await h.store.codes.createRedeemCode(gid);
    const bob = await signedIn(BOB.sub, `${SHARED}/`);
    const refused = await bob.get(`http://${ACCESS_HOST}/_jitgate/redeem?code=${code}`, {
      accept: 'application/json',
    });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({
      error: 'not_the_holder',
      message: expect.stringContaining('signed in as bob@example.com'),
      hint: expect.stringContaining('/access app'),
    });
    expect(await h.store.codes.redeemCodeGrant(code)).toBe(gid);
    const toCarol = (c: { body: Record<string, unknown> }) =>
      String(c.body.channel) === dmChannelOf('U0CAROL') && String(c.body.text).includes('Someone else');
    const dm = await slack.waitFor('chat.postMessage', toCarol);
    expect(String(dm.body.text)).toContain('bob@example.com');
    const event = (await auditEvents()).find((e) => e.type === 'grant.redeem_refused' && e.grantId === gid);
    expect(event).toMatchObject({ actor: 'bob@example.com', subject: 'U0CAROL', resource: 'app' });

    expect(
      (await bob.get(`http://${ACCESS_HOST}/_jitgate/redeem?code=${code}`, { accept: 'application/json' }))
        .status,
    ).toBe(403);
    await sleep(300);
    expect(slack.callsTo('chat.postMessage').filter(toCarol)).toHaveLength(1);
  });

  it('when the holder opens the link signed in, for a bearer-only resource, then the page shows the token once (no-store, no-referrer, nothing in the URL), it works as a bearer, and reopening says it was used', async () => {
    const { gid } = await grant({ resource: 'app', role: 'access', ...carols });
    const code = await h.store.codes.createRedeemCode(gid);
    const link = `http://${ACCESS_HOST}/_jitgate/redeem?code=${code}`;
    const carol = await signedIn(CAROL.sub, `${SHARED}/`);
    const page = await carol.get(link);
    expect(page.status).toBe(200);
    expect(page.headers.location).toBeUndefined();
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.cookies).toEqual([]);
    expect(page.body).toContain('Your bearer token for app');
    const token = /export TOKEN=&#39;(eyJ[\w.-]+)&#39;/.exec(page.body)?.[1];
    expect(token).toBeDefined();
    expect(page.body).toContain(
      `curl -H &quot;Authorization: Bearer $TOKEN&quot; http://${ACCESS_HOST}/app/`,
    );
    expect(await h.store.codes.redeemCodeGrant(code)).toBeUndefined(); // consumed

    const api = h.browser(); // a terminal: no session, no cookie
    const used = await api.get(`http://${ACCESS_HOST}/app/cli`, {
      accept: 'application/json',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(used.status).toBe(200);
    expect(echoed(used.body).headers['x-jit-grant']).toBe(gid);

    const again = await carol.get(link);
    expect(again.status).toBe(410);
    expect(again.body).toContain('code_used');
    expect(again.body).not.toContain(token!);
  });

  it('when the holder opens the link with for=command-line for a browser resource, then the page shows a bearer token instead of setting a cookie', async () => {
    const { gid } = await grant({ resource: 'hosted', role: 'access', ...carols });
    const code = await h.store.codes.createRedeemCode(gid);
    const carol = await signedIn(CAROL.sub, `${SHARED}/`);
    const page = await carol.get(`http://${ACCESS_HOST}/_jitgate/redeem?code=${code}&for=command-line`);
    expect(page.status).toBe(200);
    expect(page.cookies).toEqual([]);
    expect(page.body).toContain(`curl -H &quot;Authorization: Bearer $TOKEN&quot; ${HOSTED}/`);
    const token = /export TOKEN=&#39;(eyJ[\w.-]+)&#39;/.exec(page.body)?.[1];
    const used = await h.browser().get(`${HOSTED}/cli`, {
      accept: 'application/json',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(used.status).toBe(200);
    expect(echoed(used.body).headers['x-jit-grant']).toBe(gid);
  });
});

describe('the DM with sign-in on', () => {
  it('when a grant is minted, then the DM says to open the resource’s plain URL, and still carries the one-time link for the command line', async () => {
    const { gid } = await grant({ resource: 'hosted', role: 'access', ...carols });
    const request = (await h.store.queries.getRequestOfGrant(gid))!;
    await worker.deps!.scheduler.deliver({
      request,
      effects: [{ type: 'send-redeem-link', requestId: request.id, to: request.requester, grantId: gid }],
    });
    const dm = await slack.waitFor('chat.postMessage', (c) =>
      String(c.body.text).includes(`open ${HOSTED}/`),
    );
    expect(String(dm.body.channel)).toBe(dmChannelOf('U0CAROL'));
    const all = JSON.stringify(dm.body.blocks);
    expect(all).toContain(`"url":"${HOSTED}/"`);
    // The link is for the command line, opened signed in: a curl of it has no session and is refused.
    expect(all).not.toContain('Accept: application/json');
    expect(all).toContain('signed in as yourself');
    expect(all).toMatch(/http:\/\/access\.test\.local\/_jitgate\/redeem\?code=[\w-]+&amp;for=command-line/);
    expect(all).not.toMatch(/eyJ[\w-]+\.eyJ/); // never a token
  });
});

describe('several grants for one resource (roles)', () => {
  it('when the person holds a viewer and an editor grant, then each request goes through the grant whose role allows it, and only what neither allows is refused', async () => {
    const viewer = await grant({ resource: 'shared', role: 'viewer' });
    const alice = await signedIn(ALICE.sub, `${SHARED}/`);
    // Viewer only: a write is refused, naming the role that would allow it.
    const denied = await alice.get(`${SHARED}/api/x`, { method: 'POST', accept: 'application/json' });
    expect(denied.status).toBe(403);
    const deniedPage = await alice.get(`${SHARED}/api/x`, { method: 'POST' });
    expect(deniedPage.body).toContain('<h1>Signed in as alice@example.com</h1>');
    expect(deniedPage.body).toContain('type <code>/access shared/editor 1h &lt;reason&gt;</code> in Slack');
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
  /** The Redis calls made under this test's prefix while `run` runs (scripts by name), usage writes aside. */
  async function callsDuring(run: () => Promise<void>): Promise<string[]> {
    const bySha = new Map(
      (Object.keys(SCRIPTS) as ScriptName[]).map((name) => [
        createHash('sha1').update(SCRIPTS[name]).digest('hex'),
        name,
      ]),
    );
    const calls: string[] = [];
    const monitor = await monitorRedis(await serverUrlFor(`{${h.test.prefix}}`), ({ source, args }) => {
      if (source === 'lua' || !args.some((a) => a.startsWith(`{${h.test.prefix}}`))) return;
      // Refusals earlier in the suite (sign-in redirects) are counted and flushed once a second: not per request.
      if (args.some((a) => a.startsWith(`{${h.test.prefix}}:refused:`))) return;
      const name = args[0]!.toLowerCase();
      calls.push(name === 'evalsha' ? (bySha.get(args[1]!) ?? 'evalsha?') : name);
    });
    try {
      await run();
      await h.test.redis.get(`{${h.test.prefix}}:end`);
      for (let i = 0; i < 100 && !calls.includes('get'); i++) await sleep(10);
    } finally {
      monitor.close();
    }
    // The usage counter writes in batches (record-use), never per request; everything else is the read.
    return calls.filter((c) => c !== 'record-use' && c !== 'get');
  }

  it('when a signed-in person makes requests, then each costs exactly ONE Redis call (the person-access script) and nothing else', async () => {
    await grant({ resource: 'hosted', role: 'access' });
    const alice = await signedIn(ALICE.sub, `${HOSTED}/`);
    expect((await alice.get(`${HOSTED}/warm`)).status).toBe(200); // the script is loaded on this connection
    const perRequest = await callsDuring(async () => {
      for (let i = 0; i < 5; i++) expect((await alice.get(`${HOSTED}/n/${i}`)).status).toBe(200);
    });
    expect(perRequest).toEqual(Array(5).fill('person-access'));
  });

  it("when the holder's browser sends its access cookie beside the session, then each request still costs ONE Redis call (the token's grant is not read as well)", async () => {
    const { gid } = await grant({ resource: 'hosted', role: 'access' });
    const alice = await signedIn(ALICE.sub, `${HOSTED}/`);
    const link = `http://${ACCESS_HOST}/_jitgate/redeem?code=${await h.store.codes.createRedeemCode(gid)}`;
    expect((await alice.follow(link)).last.status).toBe(200);
    expect(alice.cookie(HOSTED_HOST, 'jitgate_hosted')).toBeDefined();
    const perRequest = await callsDuring(async () => {
      for (let i = 0; i < 5; i++) expect((await alice.get(`${HOSTED}/c/${i}`)).status).toBe(200);
    });
    expect(perRequest).toEqual(Array(5).fill('person-access'));
  });

  it('when a command line sends a bearer token with sign-in on, then each request costs ONE Redis call (the grant read), as without sign-in', async () => {
    const { gid, expiresAt } = await grant({ resource: 'app', role: 'access' });
    const token = await signAccessToken(
      h.keys,
      {
        issuer: h.publicUrl,
        grantId: gid,
        user: 'U0ALICE',
        email: 'alice@example.com',
        resource: 'app',
        role: 'access',
        expiresAt,
      },
      systemClock,
    );
    const terminal = h.browser();
    const send = (path: string) =>
      terminal.get(`http://${ACCESS_HOST}/app${path}`, {
        accept: 'application/json',
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await send('/warm')).status).toBe(200);
    const perRequest = await callsDuring(async () => {
      for (let i = 0; i < 5; i++) expect((await send(`/b/${i}`)).status).toBe(200);
    });
    expect(perRequest).toEqual(Array(5).fill('hmget'));
  });
});

describe('Sign in with Slack: matched by Slack user id, and by workspace when the grant records one', () => {
  let s: SignInHarness;
  beforeAll(async () => {
    s = await startSignInHarness({
      matchBy: 'slack',
      users: [
        // No e-mail in these ID tokens: Slack people are matched by their user id alone.
        { sub: 'slack-dan', slack: { user: 'U0DAN', team: 'T0ACME' } },
        { sub: 'slack-eve', slack: { user: 'U0EVE', team: 'T0ACME' } },
      ],
    });
  });
  afterAll(() => s.close());

  it('when the grant is the Slack user’s (of this workspace, or of none recorded), then the plain URL works; a grant recorded in another workspace does not', async () => {
    const mint = async (over: Partial<NewRequest>) => {
      const r = newRequestInput({ resource: 'hosted', role: 'access', email: '', ...over });
      await s.store.transitions.createRequest(r, 'jitgate');
      return grantIdOf(r.id);
    };
    const dans = await mint({ requester: 'U0DAN' as SlackUserId, team: 'T0ACME' });
    await mint({ requester: 'U0EVE' as SlackUserId, team: 'T0OTHER' });

    s.idp.signInAs('slack-dan');
    const dan = s.browser();
    const { last } = await dan.follow(`${HOSTED}/`);
    expect(last.status).toBe(200);
    expect(echoed(last.body).headers).toMatchObject({ 'x-jit-user': 'U0DAN', 'x-jit-grant': dans });

    s.idp.signInAs('slack-eve');
    const eve = s.browser();
    const refused = (await eve.follow(`${HOSTED}/`)).last;
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('no_grant');
    // The same person with a grant that recorded no workspace is matched by the user id.
    const eves = await mint({ requester: 'U0EVE' as SlackUserId });
    const now = await eve.get(`${HOSTED}/`);
    expect(now.status).toBe(200);
    expect(echoed(now.body).headers['x-jit-grant']).toBe(eves);
  });
});
