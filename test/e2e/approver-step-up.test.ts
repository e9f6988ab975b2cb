import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportAudit } from '../../shared/audit/chain.js';
import { type AskHarness, fieldOf, PEOPLE, startAskHarness } from '../support/ask-harness.js';
import { ACCESS_HOST } from '../support/signin-harness.js';

/**
 * Step-up for approvers: on a resource with approverStepUp, Approve in Slack counts nothing; it
 * gives the approver a one-time link to a page that signs them in afresh at the IdP (max_age=0,
 * a real OpenID provider) and asks them to confirm; only then is the approval counted, marked as
 * confirmed. Tried as the approver, another signed-in person, a forged form and a reused link.
 */
describe('approver step-up', () => {
  let h: AskHarness;
  beforeAll(async () => {
    h = await startAskHarness({ matchBy: 'slack' });
  });
  afterAll(async () => h?.close());

  const json = (body: Record<string, unknown>) => JSON.stringify(body);
  const APPROVE = `http://${ACCESS_HOST}/_jitgate/approve`;

  /** Alice asks; `approver` clicks Approve; answers the request and the link the approver was given. */
  async function approveInSlack(approver: string): Promise<{ requestId: string; link: string }> {
    const { requestId } = await h.bot.fileRequest(
      PEOPLE.alice.slack,
      `guarded 30m INC-${Date.now() % 100000}`,
    );
    const seen = h.bot.ephemeralsTo(approver).length;
    await h.bot.click(approver, 'jit_approve', requestId);
    // The reply to this click: ephemerals to the same approver pile up across tests.
    await expect.poll(() => h.bot.ephemeralsTo(approver).length).toBeGreaterThan(seen);
    const reply = h.bot.ephemeralsTo(approver).slice(seen).join('\n');
    const link = /<(http:\/\/[^|>]+\/_jitgate\/approve\?code=[^|>]+)\|/.exec(reply)?.[1];
    if (!link) throw new Error(`no confirmation link in: ${reply}`);
    return { requestId, link };
  }

  it('when the approver clicks Approve, then nothing is counted until they confirm after a fresh sign-in, and then it is marked confirmed', async () => {
    const { requestId, link } = await approveInSlack(PEOPLE.boss.slack);
    expect(await h.bot.deps.store.queries.getRequest(requestId)).toMatchObject({
      status: 'pending',
      approvals: [],
    });

    const b = h.browser();
    h.idp.signInAs('idp-boss');
    const before = h.idp.logins();
    const { chain, last } = await b.follow(link);
    expect(chain.some((a) => a.location?.includes('max_age=0'))).toBe(true);
    expect(h.idp.logins()).toBe(before + 1);
    expect(last.status).toBe(200);
    expect(last.body).toContain('Confirm your approval');
    expect(last.body).toContain('guarded/access');

    const confirmed = await b.post(APPROVE, {
      code: fieldOf(last.body, 'code'),
      csrf: fieldOf(last.body, 'csrf'),
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toContain('Approval confirmed');
    await h.bot.waitForDm(PEOPLE.alice.slack, /_jitgate\/redeem|guarded/);
    await expect
      .poll(async () => json((await h.bot.approvalMessage(requestId))!.body))
      .toContain('confirmed in the browser with a fresh sign-in');
    expect(await h.bot.deps.store.queries.getRequest(requestId)).toMatchObject({
      status: 'approved',
      steppedUp: true,
    });
    const approved: Record<string, unknown>[] = [];
    for await (const e of exportAudit(h.bot.redis, h.bot.keys))
      if (e.event.type === 'request.approved' && e.event.requestId === requestId) approved.push(e.event);
    expect(approved).toEqual([expect.objectContaining({ actor: PEOPLE.boss.slack, stepUp: true })]);

    // The link is used up.
    const again = await b.post(APPROVE, {
      code: fieldOf(last.body, 'code'),
      csrf: fieldOf(last.body, 'csrf'),
    });
    expect(again.status).toBe(410);
  });

  it('when the approver already has a session, then they must still sign in afresh', async () => {
    const b = h.browser();
    h.idp.signInAs('idp-boss');
    await b.follow(`http://${ACCESS_HOST}/_jitgate/signin?return=/`);
    const { link } = await approveInSlack(PEOPLE.boss.slack);
    const before = h.idp.logins();
    const { last } = await b.follow(link);
    expect(h.idp.logins()).toBe(before + 1);
    expect(last.body).toContain('Confirm your approval');
  });

  it('when someone else opens the approver’s link, then after their fresh sign-in it is refused and nothing is counted', async () => {
    const { requestId, link } = await approveInSlack(PEOPLE.boss.slack);
    const b = h.browser();
    h.idp.signInAs('idp-bob'); // an approver of this resource too, but not the one who clicked
    const { last } = await b.follow(link);
    expect(last.status).toBe(403);
    expect(last.body).toContain('not_the_approver');
    expect(last.body).toContain('Nothing was approved');
    expect((await h.bot.deps.store.queries.getRequest(requestId))?.approvals).toEqual([]);
  });

  it('when the confirmation is forged, then it is refused: no token, another session’s token, another site, no fresh sign-in', async () => {
    const { requestId, link } = await approveInSlack(PEOPLE.boss.slack);
    const b = h.browser();
    h.idp.signInAs('idp-boss');
    const { last } = await b.follow(link);
    const code = fieldOf(last.body, 'code');
    const csrf = fieldOf(last.body, 'csrf');
    expect((await b.post(APPROVE, { code })).status).toBe(403);
    expect((await b.post(APPROVE, { code, csrf }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await b.post(APPROVE, { code, csrf }, { origin: '', referer: '' })).status).toBe(403);
    // The same form from a browser with no fresh sign-in (here: none at all).
    expect((await h.browser().post(APPROVE, { code, csrf })).status).toBe(401);
    // Another fresh session of the same approver cannot use this session's token.
    const other = h.browser();
    await other.follow(link);
    expect((await other.post(APPROVE, { code, csrf })).status).toBe(403);
    expect((await h.bot.deps.store.queries.getRequest(requestId))?.approvals).toEqual([]);
    // Unknown and malformed codes.
    expect((await b.get(`${APPROVE}?code=${'A'.repeat(43)}`)).status).toBe(410);
    expect((await b.get(`${APPROVE}?code=../../x`)).status).toBe(410);
  });

  it('when someone who may not decide clicks Approve, then no link is made', async () => {
    const { requestId } = await h.bot.fileRequest(PEOPLE.bob.slack, 'guarded 30m INC-77');
    await h.bot.click('U0MALLORY', 'jit_approve', requestId);
    await h.bot.waitForEphemeral('U0MALLORY', /not an approver of guarded/);
    expect(h.bot.ephemeralsTo('U0MALLORY').join('\n')).not.toContain('_jitgate/approve');
  });
});
