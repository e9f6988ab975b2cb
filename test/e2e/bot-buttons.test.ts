import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BOT_TEST_POLICY,
  type BotHarness,
  buttonsOf,
  startBotHarness,
  TRANSPORTS,
} from '../support/bot-harness.js';

/**
 * The buttons (who may press them, what changes), the forms and App Home, against the real bot over
 * HTTP and over Socket Mode (envelopes, each delivered twice, so nothing may act twice).
 */

const RACERS = Array.from({ length: 20 }, (_, i) => `U0RACE${String(i).padStart(2, '0')}`);

describe.each(TRANSPORTS)('over %s', (transport) => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({
      policy: BOT_TEST_POLICY,
      usergroups: { S0SRE: ['U0SRE1', 'U0SRE2', ...RACERS] },
      transport,
    });
  });
  afterAll(async () => h?.stop());

  const json = (body: Record<string, unknown>) => JSON.stringify(body);

  async function messageOf(requestId: string) {
    const message = await h.approvalMessage(requestId);
    if (!message) throw new Error(`no approval message for ${requestId}`);
    return message;
  }

  async function postedTs(requestId: string): Promise<string> {
    const request = await h.deps.store.queries.getRequest(requestId);
    return request!.message!.ts;
  }

  describe('Approve', () => {
    it('when an approver approves, then the message is updated in place, the requester gets the link and the approver is told', async () => {
      const { requestId } = await h.fileRequest('U0BOB', 'grafana/viewer 2h INC-123 dashboards');
      const ts = await postedTs(requestId);

      expect((await h.click('U0ALICE', 'jit_approve', requestId)).status).toBe(200);

      const dm = await h.waitForDm('U0BOB', /_jitgate\/redeem\?code=[A-Za-z0-9_-]{16,}/);
      expect(
        buttonsOf(dm.body).some((b) => b.url?.startsWith('http://127.0.0.1:8080/_jitgate/redeem?code=')),
      ).toBe(true);
      expect(await h.waitForEphemeral('U0ALICE', /Approved: <@U0BOB> has \*grafana\/viewer\*/)).toBeTruthy();

      await expect.poll(async () => (await messageOf(requestId)).method).toBe('chat.update');
      const message = await messageOf(requestId);
      expect(message.body.ts).toBe(ts);
      expect(json(message.body)).toMatch(/Approved\* by <@U0ALICE>/);
      expect(json(message.body)).toMatch(/Expires at/);
      const request = await h.deps.store.queries.getRequest(requestId);
      expect(buttonsOf(message.body)).toEqual([{ action_id: 'jit_revoke', value: request!.grantId }]);
    });

    it('when two approvals are needed, then each shows on the message, one person counts once, and the second grants', async () => {
      const { requestId } = await h.fileRequest('U0DAN', 'db 1h INC-200 migration check');

      await h.click('U0ALICE', 'jit_approve', requestId);
      await h.waitForEphemeral('U0ALICE', /Your approval is recorded \(1 of 2: <@U0ALICE>\)/);
      await expect
        .poll(async () => json((await messageOf(requestId)).body))
        .toMatch(/Approvals 1 of 2: <@U0ALICE>/);

      await h.click('U0ALICE', 'jit_approve', requestId);
      await h.waitForEphemeral('U0ALICE', /already approved this request \(1 of 2/);
      expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('pending');

      await h.click('U0CAROL', 'jit_approve', requestId);
      await h.waitForDm('U0DAN', /_jitgate\/redeem/);
      await expect
        .poll(async () => json((await messageOf(requestId)).body))
        .toMatch(/Approved\* by <@U0ALICE> and <@U0CAROL>/);
    });

    it('when the requester approves their own request and self-approval is off, then they are refused and nothing changes', async () => {
      const { requestId } = await h.fileRequest('U0ALICE', 'grafana 1h INC-300');
      const updatesBefore = h.standin.callsTo('chat.update').length;
      await h.click('U0ALICE', 'jit_approve', requestId);
      expect(await h.waitForEphemeral('U0ALICE', /cannot approve your own request/)).toMatch(/:warning:/);
      const request = await h.deps.store.queries.getRequest(requestId);
      expect(request).toMatchObject({ status: 'pending', approvals: [] });
      expect(h.standin.callsTo('chat.update').length).toBe(updatesBefore);
    });

    it('when the requester approves their own request where self-approval is on, then it is granted', async () => {
      const { requestId } = await h.fileRequest('U0BOB', 'staging 1h deploy check');
      await h.click('U0BOB', 'jit_approve', requestId);
      await h.waitForDm('U0BOB', /staging\/access[\s\S]*_jitgate\/redeem/);
      expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('approved');
    });

    it('when someone who is not an approver clicks, then they are refused privately and nothing changes', async () => {
      const { requestId } = await h.fileRequest('U0EVE', 'grafana 1h INC-301');
      const updatesBefore = h.standin.callsTo('chat.update').length;
      await h.click('U0MALLORY', 'jit_approve', requestId);
      expect(await h.waitForEphemeral('U0MALLORY', /You are not an approver of grafana/)).toBeTruthy();
      expect(await h.deps.store.queries.getRequest(requestId)).toMatchObject({
        status: 'pending',
        approvals: [],
      });
      expect(h.standin.callsTo('chat.update').length).toBe(updatesBefore);
      expect(h.dmsTo('U0EVE')).toHaveLength(0);
    });

    it('when a member of an approving user group approves, then Slack is asked for the group and it is granted', async () => {
      const { requestId } = await h.fileRequest('U0FAY', 'grafana 1h INC-302');
      await h.click('U0SRE1', 'jit_approve', requestId);
      await h.waitForDm('U0FAY', /_jitgate\/redeem/);
      expect(h.standin.callsTo('usergroups.users.list').some((c) => c.body.usergroup === 'S0SRE')).toBe(true);
      expect((await h.deps.store.queries.getRequest(requestId))?.approvals).toEqual(['U0SRE1']);
    });

    it('when 20 approvers click at once, then exactly one grant is minted and one link is sent', async () => {
      const { requestId } = await h.fileRequest('U0GUS', 'grafana 1h INC-303 race');
      const results = await Promise.all(RACERS.map((user) => h.click(user, 'jit_approve', requestId)));
      expect(results.every((r) => r.status === 200)).toBe(true);
      await h.waitForDm('U0GUS', /_jitgate\/redeem/);
      // Let every click finish: one is told it approved, the others that it was already decided.
      await expect
        .poll(() => RACERS.filter((u) => h.ephemeralsTo(u).length > 0).length, { timeout: 5000 })
        .toBe(RACERS.length);
      const request = await h.deps.store.queries.getRequest(requestId);
      expect(request?.status).toBe('approved');
      expect(request?.approvals).toHaveLength(1);
      expect(h.dmsTo('U0GUS').filter((c) => json(c.body).includes('_jitgate/redeem'))).toHaveLength(1);
      expect(await h.deps.store.queries.activeGrantsOf('U0GUS' as never)).toHaveLength(1);
    });
  });

  describe('Deny', () => {
    it('when an approver denies with a reason, then the message shows it and the requester is told why', async () => {
      const { requestId } = await h.fileRequest('U0HAL', 'grafana/editor 1h INC-400');
      await h.click('U0CAROL', 'jit_deny', requestId);
      const open = await h.standin.waitFor('views.open', (c) => json(c.body).includes(requestId));
      const view = open.body.view as { callback_id: string; private_metadata: string };
      expect(view).toMatchObject({ callback_id: 'jit_deny_reason', private_metadata: requestId });

      const res = await h.submitView(
        'U0CAROL',
        'jit_deny_reason',
        { jit_deny_reason: { reason: 'use the viewer role' } },
        { privateMetadata: requestId },
      );
      expect(res.status).toBe(200);
      const dm = await h.waitForDm('U0HAL', /denied by <@U0CAROL>/);
      expect(json(dm.body)).toContain('use the viewer role');
      await expect
        .poll(async () => json((await messageOf(requestId)).body))
        .toMatch(/Denied\* by <@U0CAROL>/);
      expect(buttonsOf((await messageOf(requestId)).body)).toEqual([]);
      expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('denied');
    });

    it('when someone who is not an approver clicks Deny, then no form opens and they are refused', async () => {
      const { requestId } = await h.fileRequest('U0IDA', 'grafana 1h INC-401');
      await h.click('U0MALLORY', 'jit_deny', requestId);
      await h.waitForEphemeral('U0MALLORY', /not an approver of grafana/);
      expect(h.standin.callsTo('views.open').some((c) => json(c.body).includes(requestId))).toBe(false);
    });

    it('when a deny form is submitted by someone who may not decide, then nothing changes', async () => {
      const { requestId } = await h.fileRequest('U0IDA', 'grafana 1h INC-402');
      await h.submitView(
        'U0MALLORY',
        'jit_deny_reason',
        { jit_deny_reason: { reason: 'no' } },
        { privateMetadata: requestId },
      );
      await h.waitForDm('U0MALLORY', /not an approver of grafana/);
      expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('pending');
    });
  });

  describe('Revoke and Cancel', () => {
    it('when an approver presses Revoke, then the grant ends, the message says so and the holder is told', async () => {
      const { requestId } = await h.fileRequest('U0JON', 'grafana 1h INC-500');
      await h.click('U0ALICE', 'jit_approve', requestId);
      await h.waitForDm('U0JON', /_jitgate\/redeem/);
      const grantId = (await h.deps.store.queries.getRequest(requestId))!.grantId!;

      await h.click('U0MALLORY', 'jit_revoke', grantId);
      await h.waitForEphemeral('U0MALLORY', /Only the holder, an approver of this resource or an admin/);
      expect((await h.deps.store.queries.liveGrant(grantId))?.status).toBe('active');

      await h.click('U0CAROL', 'jit_revoke', grantId);
      await h.waitForEphemeral('U0CAROL', /Revoked \*grafana\/viewer\* for <@U0JON>/);
      expect((await h.deps.store.queries.liveGrant(grantId))?.status).toBe('revoked');
      await h.waitForDm('U0JON', /revoked by <@U0CAROL>/);
      await expect
        .poll(async () => json((await messageOf(requestId)).body))
        .toMatch(/Revoked\* by <@U0CAROL>/);
      expect(buttonsOf((await messageOf(requestId)).body)).toEqual([]);
    });

    it('when an admin revokes from App Home, then it works and the answer comes as a DM', async () => {
      const { requestId } = await h.fileRequest('U0KIM', 'grafana 1h INC-501');
      await h.click('U0ALICE', 'jit_approve', requestId);
      await h.waitForDm('U0KIM', /_jitgate\/redeem/);
      const grantId = (await h.deps.store.queries.getRequest(requestId))!.grantId!;
      await h.click('U0ADMIN', 'jit_revoke', grantId, {
        messageTs: undefined,
        view: { id: 'V0HOME', type: 'home' },
      });
      await h.waitForDm('U0ADMIN', /Revoked \*grafana\/viewer\*/);
      expect((await h.deps.store.queries.liveGrant(grantId))?.status).toBe('revoked');
    });

    it('when the requester presses Cancel, then the request is cancelled; anyone else is refused', async () => {
      const { requestId } = await h.fileRequest('U0LEA', 'grafana 1h INC-502');
      await h.click('U0ALICE', 'jit_cancel', requestId);
      await h.waitForEphemeral('U0ALICE', /Only the person who asked can cancel/);
      expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('pending');
      await h.click('U0LEA', 'jit_cancel', requestId);
      await h.waitForEphemeral('U0LEA', /Cancelled your request/);
      expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('cancelled');
      await expect
        .poll(async () => json((await messageOf(requestId)).body))
        .toMatch(/Cancelled\* by <@U0LEA>/);
    });

    it('when a button carries a value that is no id, then the click is refused and nothing is read', async () => {
      await h.click('U0ALICE', 'jit_approve', 'r_../../etc');
      await h.waitForEphemeral('U0ALICE', /carries no valid id/);
    });
  });

  describe('App Home and Slack hiccups', () => {
    it('when someone opens App Home, then it is published with their requests and what waits for them', async () => {
      const { requestId } = await h.fileRequest('U0MAX', 'grafana 1h INC-600 home');
      await h.openHome('U0MAX');
      const mine = await h.standin.waitFor(
        'views.publish',
        (c) => c.body.user_id === 'U0MAX' && json(c.body).includes(requestId),
      );
      expect((mine.body.view as { type: string }).type).toBe('home');
      expect(buttonsOf(mine.body)).toContainEqual({ action_id: 'jit_cancel', value: requestId });

      await h.openHome('U0CAROL');
      const approver = await h.standin.waitFor(
        'views.publish',
        (c) =>
          c.body.user_id === 'U0CAROL' &&
          json(c.body).includes('Waiting for you') &&
          json(c.body).includes(requestId),
      );
      expect(buttonsOf(approver.body)).toContainEqual({ action_id: 'jit_approve', value: requestId });
    });

    it('when chat.update is rate limited once, then the update waits for Retry-After and lands', async () => {
      const { requestId } = await h.fileRequest('U0NED', 'grafana 1h INC-700');
      const ts = await postedTs(requestId);
      h.standin.failNext('chat.update', { status: 429, retryAfterSec: 1 });
      const started = Date.now();
      await h.click('U0ALICE', 'jit_approve', requestId);
      const update = await h.standin.waitFor('chat.update', (c) => c.body.ts === ts, 8000);
      expect(update.at - started).toBeGreaterThanOrEqual(900);
      const limited = h.standin.calls.filter((c) => c.method === 'chat.update' && c.status === 429);
      expect(limited.length).toBeGreaterThanOrEqual(1);
      expect(json(update.body)).toMatch(/Approved\* by <@U0ALICE>/);
    });

    it('never posts a token into Slack: no JWT, no bot token, only redeem links', async () => {
      const text = h.standin.allText();
      expect(text).toContain('_jitgate/redeem?code=');
      expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}/);
      expect(text).not.toContain(h.botToken);
      expect(text).not.toMatch(/xox[abp]-/);
    });
  });
});
