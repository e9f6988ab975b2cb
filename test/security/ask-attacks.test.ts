import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASK, type AskHarness, form, startAskHarness, status } from '../support/ask-harness.js';
import type { CookieBrowser } from '../support/cookie-browser.js';
import { ACCESS_HOST, HOSTED_HOST } from '../support/signin-harness.js';
import { countFigures } from './figures.js';

/**
 * The request form on the refusal page, attacked from outside (the real authorizer and bot, a real
 * OpenID provider, the Slack stand-in): forged posts beyond the form's own tests (other schemes,
 * a foreign Referer, a token outliving its session, posts naming another resource or a way out of
 * it), and the status of someone else's request. Each refusal stores nothing.
 */
countFigures('attack');

const QUICK = `http://${ACCESS_HOST}/quick/`;

let h: AskHarness;
beforeAll(async () => {
  h = await startAskHarness();
}, 30_000);
afterAll(() => h?.close());

const askKeys = async () => (await h.bot.redis.keys(`${h.bot.keys.prefix}:ask:*`)).sort();

describe('forged posts of the request form', () => {
  let b: CookieBrowser;
  let page: string;
  let before: string[];
  beforeAll(async () => {
    ({ b, page } = await h.signedIn('carol', QUICK));
    before = await askKeys();
  });

  it.each([
    ['with the https origin of this http host', { origin: `https://${ACCESS_HOST}` }],
    ['with this host on another port', { origin: `http://${ACCESS_HOST}:8443` }],
    ['with a look-alike host', { origin: `http://${ACCESS_HOST}.evil.test` }],
    ['with no Origin and a foreign Referer', { origin: '', referer: 'http://evil.test/page' }],
    ['with no Origin and a Referer that is not a URL', { origin: '', referer: 'not a url' }],
    ['with two Origins', { origin: `http://${ACCESS_HOST}, http://evil.test` }],
  ])('when a post comes %s, then it is refused and stores nothing', async (_what, headers) => {
    const answer = await b.post(ASK, form(page), headers);
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('csrf_refused');
    expect(await askKeys()).toEqual(before);
  });

  it("when the anti-forgery token of a logged-out session is sent with the same person's new session, then it is refused", async () => {
    const old = await h.signedIn('carol', QUICK);
    await old.b.get(`http://${ACCESS_HOST}/_jitgate/logout`);
    expect((await old.b.post(ASK, form(old.page))).status).toBe(401);
    const fresh = await h.signedIn('carol', QUICK);
    const answer = await fresh.b.post(ASK, form(fresh.page, { csrf: form(old.page).csrf! }));
    expect(answer.status).toBe(403);
    expect(await askKeys()).toEqual(before);
  });

  it.each([
    ['another resource than its return path', { resource: 'grafana' }],
    ['a return path that climbs out of the resource', { return: '/quick/../_jitgate/logout' }],
    ['an encoded climb', { return: '/quick/%2e%2e/grafana/' }],
    ['a return path on another origin', { return: '//evil.test/quick/' }],
    ['a resource that does not exist', { resource: 'nope', return: '/nope/' }],
    ['a bearer-only resource', { resource: 'api', return: '/api/' }],
  ])('when the form names %s, then it is refused and stores nothing', async (_what, changes) => {
    const answer = await b.post(ASK, form(page, changes));
    expect(answer.status).toBe(400);
    expect(await askKeys()).toEqual(before);
  });

  it("when the sign-in host's form is posted to a resource host (its token is the same session's), then it names no resource served there", async () => {
    const answer = await b.post(`http://${HOSTED_HOST}/_jitgate/ask`, form(page), {
      origin: `http://${HOSTED_HOST}`,
    });
    expect([400, 401]).toContain(answer.status);
    expect(await askKeys()).toEqual(before);
  });
});

describe("someone else's request", () => {
  it('when the status or page of a request is asked for with its id guessed, by its own person under another resource, or after logout, then nothing is told', async () => {
    const { b, page } = await h.signedIn('alice', `http://${ACCESS_HOST}/grafana/`);
    const sent = await b.post(ASK, form(page));
    expect(sent.status).toBe(303);
    const waiting = new URL(sent.location!, `http://${ACCESS_HOST}`);
    expect((await status(b, `http://${ACCESS_HOST}`, waiting.href)).status).toBe(200);

    const guessed = new URL(waiting);
    guessed.searchParams.set('id', 'r_aaaaaaaaaaaaaaaaaaaaaaaaaa');
    expect((await status(b, `http://${ACCESS_HOST}`, guessed.href)).status).toBe(404);
    const otherResource = new URL(waiting);
    otherResource.searchParams.set('resource', 'quick');
    expect((await status(b, `http://${ACCESS_HOST}`, otherResource.href)).status).toBe(404);

    const bob = await h.signedIn('bob', `http://${ACCESS_HOST}/grafana/`);
    const read = await status(bob.b, `http://${ACCESS_HOST}`, waiting.href);
    expect(read.status).toBe(404);
    expect(read.body).not.toContain('alice');
    expect((await bob.b.get(waiting.href)).status).toBe(404);

    await b.get(`http://${ACCESS_HOST}/_jitgate/logout`);
    expect((await status(b, `http://${ACCESS_HOST}`, waiting.href)).status).toBe(401);
  });
});
