import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AskHarness, fieldOf, PEOPLE, startAskHarness } from '../support/ask-harness.js';
import { ACCESS_HOST } from '../support/signin-harness.js';
import { countFigures } from './figures.js';

/**
 * Step-up for approvers attacked from outside (the real bot and worker, the authorizer with sign-in
 * at a real OpenID provider, the Slack stand-in), beyond the feature's own tests: a fresh sign-in
 * reused for an approval clicked after it (a hijacked Slack session clicking Approve while the
 * approver's browser, or a cookie stolen from it, still holds a recent step-up), confirmations after
 * the request was decided, codes from the wrong place, and unauthenticated traffic to the page.
 */
countFigures('attack');

const APPROVE = `http://${ACCESS_HOST}/_jitgate/approve`;

let h: AskHarness;
beforeAll(async () => {
  h = await startAskHarness({ matchBy: 'slack' });
}, 30_000);
afterAll(() => h?.close());

/** `asker` files a guarded request; `approver` clicks Approve; answers the request id and the link given. */
async function approveInSlack(asker: string, approver: string): Promise<{ requestId: string; link: string }> {
  const { requestId } = await h.bot.fileRequest(asker, `guarded 30m INC-${Date.now() % 100000}`);
  const seen = h.bot.ephemeralsTo(approver).length;
  await h.bot.click(approver, 'jit_approve', requestId);
  await expect.poll(() => h.bot.ephemeralsTo(approver).length).toBeGreaterThan(seen);
  const reply = h.bot.ephemeralsTo(approver).slice(seen).join('\n');
  const link = /<(http:\/\/[^|>]+\/_jitgate\/approve\?code=[^|>]+)\|/.exec(reply)?.[1];
  if (!link) throw new Error(`no confirmation link in: ${reply}`);
  return { requestId, link };
}

const cancel = (user: string, requestId: string) => h.bot.command(user, `cancel ${requestId}`);

describe('a fresh sign-in is for the approval clicked before it', () => {
  it('when the approver confirmed one approval and Approve is clicked again afterwards, then that one needs its own fresh sign-in', async () => {
    const b = h.browser();
    h.idp.signInAs('idp-boss');
    const first = await approveInSlack(PEOPLE.alice.slack, PEOPLE.boss.slack);
    const { last } = await b.follow(first.link);
    expect(last.body).toContain('Confirm your approval');
    const confirmed = await b.post(APPROVE, {
      code: fieldOf(last.body, 'code'),
      csrf: fieldOf(last.body, 'csrf'),
    });
    expect(confirmed.status).toBe(200);

    // Seconds later, Approve is clicked again in Slack (by a hijacked session, say) on another
    // request; the browser (or a copy of its cookies) still holds the step-up session.
    await new Promise((r) => setTimeout(r, 1100));
    const second = await approveInSlack(PEOPLE.bob.slack, PEOPLE.boss.slack);
    const logins = h.idp.logins();
    const opened = await b.get(second.link);
    // Not the Confirm page: off to the IdP again, max_age=0.
    expect([302, 303]).toContain(opened.status);
    expect(opened.location).toContain('max_age=0');
    expect(opened.body).not.toContain('csrf');
    // Nor can the stale session confirm it outright.
    const forged = await b.post(APPROVE, { code: new URL(second.link).searchParams.get('code')! });
    expect(forged.status).toBe(401);
    expect((await h.bot.deps.store.queries.getRequest(second.requestId))?.approvals).toEqual([]);

    // Once the approver signs in afresh, it works as before.
    const { last: again } = await b.follow(second.link);
    expect(h.idp.logins()).toBe(logins + 1);
    expect(again.body).toContain('Confirm your approval');
    await cancel(PEOPLE.bob.slack, second.requestId);
  });
});

describe('confirmations that come too late', () => {
  it('when the request was withdrawn between the click and the confirmation, then nothing is counted and the approver is told', async () => {
    const { requestId, link } = await approveInSlack(PEOPLE.alice.slack, PEOPLE.boss.slack);
    const b = h.browser();
    h.idp.signInAs('idp-boss');
    const { last } = await b.follow(link);
    expect(last.body).toContain('Confirm your approval');
    await cancel(PEOPLE.alice.slack, requestId);
    await expect
      .poll(async () => (await h.bot.deps.store.queries.getRequest(requestId))?.status)
      .toBe('cancelled');
    const confirmed = await b.post(APPROVE, {
      code: fieldOf(last.body, 'code'),
      csrf: fieldOf(last.body, 'csrf'),
    });
    expect(confirmed.status).toBe(200); // taken; the worker judges it
    await h.bot.waitForDm(PEOPLE.boss.slack, /confirmed approval was not counted/);
    expect(await h.bot.deps.store.queries.getRequest(requestId)).toMatchObject({
      status: 'cancelled',
      approvals: [],
    });
    // The page no longer offers to confirm it.
    expect((await b.get(link)).status).toBe(410);
  });

  it('when the link is opened after the request was decided, then the page says so and offers nothing', async () => {
    const { requestId, link } = await approveInSlack(PEOPLE.alice.slack, PEOPLE.boss.slack);
    await cancel(PEOPLE.alice.slack, requestId);
    await expect
      .poll(async () => (await h.bot.deps.store.queries.getRequest(requestId))?.status)
      .toBe('cancelled');
    const b = h.browser();
    h.idp.signInAs('idp-boss');
    const { last } = await b.follow(link);
    expect(last.status).toBe(409);
    expect(last.body).not.toContain('name="csrf"');
  });
});

describe('codes from the wrong place', () => {
  it('when the code is sent twice, in the body and the query, or as a list, then it is refused', async () => {
    const { requestId, link } = await approveInSlack(PEOPLE.alice.slack, PEOPLE.boss.slack);
    const code = new URL(link).searchParams.get('code')!;
    const b = h.browser();
    h.idp.signInAs('idp-boss');
    const { last } = await b.follow(link);
    const csrf = fieldOf(last.body, 'csrf');
    // The code only in the query of the POST.
    expect((await b.post(`${APPROVE}?code=${code}`, { csrf })).status).toBe(410);
    // The wrong code in the body with the right one in the query.
    expect((await b.post(`${APPROVE}?code=${code}`, { code: 'A'.repeat(43), csrf })).status).toBe(410);
    expect((await h.bot.deps.store.queries.getRequest(requestId))?.approvals).toEqual([]);
    await cancel(PEOPLE.alice.slack, requestId);
  });

  it.each([
    ['a protocol-relative path', '//evil.example/x'],
    ['an absolute URL', 'https://evil.example/'],
    ['a backslash path', '/\\evil.example'],
    ['a CRLF', 'x%0d%0aLocation:%20https://evil.example'],
  ])('when the code is %s, then nothing redirects anywhere', async (_, code) => {
    const answer = await h.browser().get(`${APPROVE}?code=${code}`);
    expect(answer.status).toBe(410);
    expect(answer.location).toBeUndefined();
  });
});

describe('unauthenticated traffic to the confirmation page', () => {
  it('when 150 guessed codes are opened and posted without a session (the confirmation page, redeem, the request form), then nothing is stored and nothing approved', async () => {
    const before = (await h.bot.redis.keys(`${h.bot.prefix}*`)).length;
    const b = h.browser();
    const guesses = Array.from({ length: 150 }, (_, i) => `${String(i).padStart(3, '0')}${'x'.repeat(40)}`);
    for (const code of guesses) {
      expect((await b.get(`${APPROVE}?code=${code}`)).status).toBe(410);
      expect((await b.post(APPROVE, { code, csrf: 'k.x' })).status).toBe(410);
      // The redeem route and the request form beside it, as guessed.
      expect((await b.get(`http://${ACCESS_HOST}/_jitgate/redeem?code=${code}`)).status).toBeLessThan(500);
      expect(
        (await b.post(`http://${ACCESS_HOST}/_jitgate/ask`, { resource: 'guarded', reason: code })).status,
      ).toBe(401);
    }
    const after = (await h.bot.redis.keys(`${h.bot.prefix}*`)).length;
    expect(after - before).toBeLessThanOrEqual(2);
  });
});
