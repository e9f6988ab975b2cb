import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportAudit } from '../../shared/audit/chain.js';
import {
  BOT_TEST_POLICY,
  BOT_TEST_USERGROUPS,
  type BotHarness,
  buttonsOf,
  startBotHarness,
  TRANSPORTS,
} from '../support/bot-harness.js';

/**
 * A break-glass grant is reviewed after the fact: its approvers get Justified / Flag, a note form,
 * the approval message and the alert show the review, App Home lists what waits, and the first
 * review is the one audited. Over HTTP and over Socket Mode.
 */
describe.each(TRANSPORTS)('break-glass review over %s', (transport) => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({ policy: BOT_TEST_POLICY, usergroups: BOT_TEST_USERGROUPS, transport });
  });
  afterAll(async () => h?.stop());

  const json = (body: Record<string, unknown>) => JSON.stringify(body);

  async function breakGlass(user: string): Promise<{ requestId: string; grantId: string }> {
    await (await h.command(user, 'admin-api 15m outage INC-9 --break-glass')).reply();
    await h.waitForDm(user, /_jitgate\/redeem\?code=/);
    const requestId = (await h.deps.store.queries.unreviewedBreakGlass()).find(
      (r) => r.requester === user,
    )!.id;
    const grantId = (await h.deps.store.queries.getRequest(requestId))!.grantId!;
    return { requestId, grantId };
  }

  it('when someone breaks glass, then each approver is asked to review it, with Justified and Flag', async () => {
    const { grantId } = await breakGlass('U0GINA');
    for (const approver of ['U0SRE1', 'U0SRE2']) {
      const dm = await h.waitForDm(approver, /Review needed/);
      expect(buttonsOf(dm.body)).toEqual([
        { action_id: 'jit_review_ok', value: grantId },
        { action_id: 'jit_review_flag', value: grantId },
      ]);
    }
    // The holder is not asked to review their own break-glass.
    expect(
      h.standin
        .callsTo('chat.postMessage')
        .some((c) => c.body.channel === 'U0GINA' && /Review needed/.test(json(c.body))),
    ).toBe(false);
  });

  it('when an approver flags it with a note, then the message shows it, the buttons go, and it is audited once', async () => {
    const { requestId, grantId } = await breakGlass('U0HAL');
    await h.click('U0SRE1', 'jit_review_flag', grantId);
    const open = await h.standin.waitFor('views.open', (c) => json(c.body).includes(grantId));
    expect(open.body.view).toMatchObject({
      callback_id: 'jit_review_note',
      private_metadata: `flagged:${grantId}`,
    });
    const res = await h.submitView(
      'U0SRE1',
      'jit_review_note',
      { jit_review_note: { note: 'no incident on record' } },
      { privateMetadata: `flagged:${grantId}` },
    );
    expect(res.status).toBe(200);
    await h.waitForDm('U0SRE1', /You flagged the break-glass grant/);
    await expect
      .poll(async () => json((await h.approvalMessage(requestId))!.body))
      .toMatch(/Reviewed: flagged\* by <@U0SRE1>/);
    const message = (await h.approvalMessage(requestId))!;
    expect(json(message.body)).toContain('no incident on record');
    expect(buttonsOf(message.body).map((b) => b.action_id)).not.toContain('jit_review_ok');
    // A second review, justified this time, does not replace the first.
    await h.submitView(
      'U0SRE2',
      'jit_review_note',
      { jit_review_note: { note: '' } },
      { privateMetadata: `justified:${grantId}` },
    );
    await h.waitForDm('U0SRE2', /had already reviewed .* \(flagged\); the first review stands/);
    expect((await h.deps.store.queries.getRequest(requestId))!.review).toMatchObject({
      by: 'U0SRE1',
      verdict: 'flagged',
    });
    const reviews: Record<string, unknown>[] = [];
    for await (const e of exportAudit(h.redis, h.keys)) {
      if (e.event.type === 'grant.reviewed' && e.event.grantId === grantId) reviews.push(e.event);
    }
    expect(reviews).toEqual([
      expect.objectContaining({
        actor: 'U0SRE1',
        subject: 'U0HAL',
        verdict: 'flagged',
        note: 'no incident on record',
      }),
    ]);
  });

  it('when the holder, or someone who approves nothing there, presses a review button, then no form opens and they are refused', async () => {
    const { requestId, grantId } = await breakGlass('U0IDA');
    await h.click('U0IDA', 'jit_review_ok', grantId);
    await h.waitForEphemeral('U0IDA', /other than the person who broke glass/);
    await h.click('U0MALLORY', 'jit_review_ok', grantId);
    await h.waitForEphemeral('U0MALLORY', /Only an approver of admin-api or an admin/);
    expect(h.standin.callsTo('views.open').some((c) => json(c.body).includes(grantId))).toBe(false);
    // A forged submission is refused too, and changes nothing.
    await h.submitView(
      'U0IDA',
      'jit_review_note',
      { jit_review_note: { note: 'fine' } },
      { privateMetadata: `justified:${grantId}` },
    );
    await h.waitForDm('U0IDA', /other than the person who broke glass/);
    expect((await h.deps.store.queries.getRequest(requestId))!.review).toBeUndefined();
  });

  it('when a grant was not break-glass, then review is refused', async () => {
    const { requestId } = await h.fileRequest('U0JON', 'grafana 1h INC-500');
    await h.click('U0ALICE', 'jit_approve', requestId);
    await h.waitForDm('U0JON', /_jitgate\/redeem/);
    const grantId = (await h.deps.store.queries.getRequest(requestId))!.grantId!;
    await h.click('U0ALICE', 'jit_review_ok', grantId);
    await h.waitForEphemeral('U0ALICE', /was not a break-glass grant/);
  });

  it('when an approver opens App Home, then unreviewed break-glass grants are listed with the buttons, and an admin sees them too', async () => {
    const { grantId } = await breakGlass('U0KIM');
    for (const user of ['U0SRE2', 'U0ADMIN']) {
      await h.openHome(user);
      const home = await h.standin.waitFor(
        'views.publish',
        (c) => c.body.user_id === user && json(c.body).includes(grantId),
      );
      expect(json(home.body)).toContain('Break-glass to review');
      expect(buttonsOf(home.body)).toContainEqual({ action_id: 'jit_review_ok', value: grantId });
    }
    await h.openHome('U0ALICE'); // approves grafana, not admin-api
    const alice = await h.standin.waitFor('views.publish', (c) => c.body.user_id === 'U0ALICE');
    expect(json(alice.body)).not.toContain(grantId);
  });
});
