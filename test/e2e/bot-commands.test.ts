import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TEAM_ID } from '../../dev/slack/index.js';
import type { GrantId } from '../../shared/ids.js';
import {
  BOT_TEST_POLICY,
  BOT_TEST_USERGROUPS,
  type BotHarness,
  buttonsOf,
  grantIdIn,
  requestIdIn,
  startBotHarness,
  TRANSPORTS,
} from '../support/bot-harness.js';

/**
 * `/access` in every form, against the real bot, the Slack stand-in and real Redis: over HTTP (signed
 * requests) and over Socket Mode (envelopes, each delivered twice, so nothing may act twice).
 */

describe.each(TRANSPORTS)('over %s', (transport) => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({ policy: BOT_TEST_POLICY, usergroups: BOT_TEST_USERGROUPS, transport });
  });
  afterAll(async () => h?.stop());

  const bodyText = (body: Record<string, unknown>) => JSON.stringify(body);

  describe('/access: the forms that work', () => {
    it('when the text is empty, then the request form opens with only what the person may request', async () => {
      const cmd = await h.command('U0BOB', '');
      expect(cmd.status).toBe(200);
      const open = await h.standin.waitFor('views.open', (c) =>
        JSON.stringify(c.body).includes(cmd.responseUrl),
      );
      const view = open.body.view as { callback_id: string; private_metadata: string };
      expect(view.callback_id).toBe('jit_request');
      expect(JSON.stringify(view)).toContain('grafana');
      expect(JSON.stringify(view)).not.toContain('vault');
      expect(JSON.parse(view.private_metadata)).toEqual({ responseUrl: cmd.responseUrl });
    });

    it('when the text is help, then the forms come back in the ack itself', async () => {
      const cmd = await h.command('U0BOB', 'help');
      expect(cmd.ack).toMatch(/\/access &lt;resource&gt;\[\/&lt;role&gt;\] &lt;duration&gt; &lt;reason/);
      expect(cmd.ack).toMatch(/--break-glass/);
      expect(cmd.ack).toMatch(/\/access extend/);
    });

    it('when a one-line request is filed, then the approvers see it and the requester is told what happens next', async () => {
      const cmd = await h.command('U0BOB', 'grafana/viewer 2h INC-123 dashboards');
      expect(cmd.status).toBe(200);
      expect(cmd.ack).toBe('');
      const reply = await cmd.reply();
      expect(reply).toMatch(/Asked for 2h of \*grafana\/viewer\*/);
      expect(reply).toMatch(/<#C0APPROVALS>/);
      const requestId = requestIdIn(reply);

      const request = await h.deps.store.queries.getRequest(requestId);
      expect(request).toMatchObject({
        status: 'pending',
        requester: 'U0BOB',
        resource: 'grafana',
        role: 'viewer',
      });
      expect(request?.reason).toBe('INC-123 dashboards');
      expect(request?.email).toBe('u0bob@example.com');

      const message = await h.approvalMessage(requestId);
      expect(message?.body.channel).toBe('C0APPROVALS');
      const text = bodyText(message!.body);
      expect(text).toContain('INC-123 dashboards');
      expect(buttonsOf(message!.body)).toEqual([
        { action_id: 'jit_approve', value: requestId },
        { action_id: 'jit_deny', value: requestId },
      ]);
    });

    it('when a request is filed through the form, then it is filed and the answer goes back where the form was opened', async () => {
      const opened = await h.command('U0ERIN', '');
      await h.standin.waitFor('views.open', (c) => JSON.stringify(c.body).includes(opened.responseUrl));
      const res = await h.submitView(
        'U0ERIN',
        'jit_request',
        {
          jit_resource: { resource: { selected: 'grafana' } },
          jit_role: { role: { selected: 'grafana/editor' } },
          jit_duration: { duration: '30m' },
          jit_reason: { reason: 'INC-7 fixing an alert rule' },
        },
        { privateMetadata: JSON.stringify({ responseUrl: opened.responseUrl }) },
      );
      expect(res.status).toBe(200);
      const reply = await opened.reply();
      expect(reply).toMatch(/Asked for 30m of \*grafana\/editor\*/);
      const request = await h.deps.store.queries.getRequest(requestIdIn(reply));
      expect(request).toMatchObject({
        role: 'editor',
        durationMs: 1_800_000,
        reason: 'INC-7 fixing an alert rule',
      });
    });

    it('when the form asks for more than the resource allows, then the field shows why and nothing is stored', async () => {
      const before = await h.requestKeys();
      const res = await h.submitView('U0ERIN', 'jit_request', {
        jit_resource: { resource: { selected: 'grafana' } },
        jit_duration: { duration: '9h' },
        jit_reason: { reason: 'too long' },
      });
      expect(res.json).toMatchObject({
        response_action: 'errors',
        errors: { jit_duration: expect.stringMatching(/at most 4h/) },
      });
      expect(await h.requestKeys()).toEqual(before);
    });

    it('when the person lists, then their grants and pending requests come back', async () => {
      await h.fileRequest('U0FRANK', 'db 1h INC-5 a query');
      const reply = await (await h.command('U0FRANK', 'list')).reply();
      expect(reply).toMatch(/Pending requests/);
      expect(reply).toMatch(/\*db\/access\*/);
    });

    it('when the person asks for resources, then they see what they may request with the limits', async () => {
      const reply = await (await h.command('U0BOB', 'resources')).reply();
      expect(reply).toMatch(/\*grafana\*/);
      expect(reply).toMatch(/max 4h/);
      expect(reply).toMatch(/break-glass allowed/);
      expect(reply).not.toMatch(/vault/);
    });

    it('when someone breaks glass where it is allowed, then it is granted at once, posted loudly and the link is DMed', async () => {
      const cmd = await h.command('U0GINA', 'admin-api 15m outage INC-9 --break-glass');
      const reply = await cmd.reply();
      expect(reply).toMatch(/granted/);
      expect(reply).toMatch(/break-glass/);
      const dm = await h.waitForDm('U0GINA', /_jitgate\/redeem\?code=/);
      expect(bodyText(dm.body)).toMatch(/admin-api/);
      const alert = await h.standin.waitFor(
        'chat.postMessage',
        (c) => c.body.channel === 'C0APPROVALS' && /Break-glass access to admin-api/.test(bodyText(c.body)),
      );
      expect(bodyText(alert.body)).toMatch(/U0GINA/);
      const grants = await h.deps.store.queries.activeGrantsOf('U0GINA' as never);
      expect(grants).toHaveLength(1);
      expect(grants[0]?.breakGlass).toBe(true);
    });

    it('when an auto-approved requester asks, then the link is DMed without any approver', async () => {
      const reply = await (await h.command('U0ONCALL', 'wiki 1h page cleanup')).reply();
      expect(reply).toMatch(/\*wiki\/access\* granted/);
      await h.waitForDm('U0ONCALL', /_jitgate\/redeem\?code=/);
    });

    it('when the holder revokes with the command, then the grant ends, the message says so and the holder is told', async () => {
      const reply = await (await h.command('U0ONCALL', 'list')).reply();
      const grantId = grantIdIn(reply);
      const revoked = await (await h.command('U0ONCALL', `revoke ${grantId} done early`)).reply();
      expect(revoked).toMatch(/Revoked \*wiki\/access\*/);
      expect((await h.deps.store.queries.liveGrant(grantId))?.status).toBe('revoked');
      const requestId = `r_${grantId.slice(2)}`;
      await expect.poll(async () => bodyText((await h.approvalMessage(requestId))!.body)).toMatch(/Revoked/);
      await h.waitForDm('U0ONCALL', /revoked by you/);
      const again = await (await h.command('U0ONCALL', `revoke ${grantId}`)).reply();
      expect(again).toMatch(/already revoked/);
    });

    it('when the holder asks to extend, then the extension is asked for in the grant’s thread', async () => {
      const { requestId } = await h.fileRequest('U0IVAN', 'grafana 1h INC-11 first look');
      await h.click('U0ALICE', 'jit_approve', requestId);
      await h.waitForDm('U0IVAN', /_jitgate\/redeem/);
      const original = await h.deps.store.queries.getRequest(requestId);
      const reply = await (
        await h.command('U0IVAN', `extend ${original!.grantId} 30m still digging`)
      ).reply();
      expect(reply).toMatch(/Asked for 30m more on \*grafana\/viewer\*/);
      const extensionId = requestIdIn(reply);
      const posted = await h.standin.waitFor('chat.postMessage', (c) =>
        bodyText(c.body).includes(extensionId),
      );
      expect(posted.body.thread_ts).toBe(original!.message!.ts);
      expect(posted.body.channel).toBe('C0APPROVALS');
    });

    it('when the requester cancels with the command, then the request is cancelled and its message says so', async () => {
      const { requestId } = await h.fileRequest('U0JUDY', 'grafana 1h INC-12');
      const reply = await (await h.command('U0JUDY', `cancel ${requestId}`)).reply();
      expect(reply).toMatch(/Cancelled your request/);
      expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('cancelled');
      await expect
        .poll(async () => bodyText((await h.approvalMessage(requestId))!.body))
        .toMatch(/Cancelled/);
    });
  });

  describe('/access: refusals say what was wrong, show the right form and store nothing', () => {
    const inAck: [string, RegExp][] = [
      ['frobnicate', /`frobnicate` is not a command/],
      ['grafana 2h', /Say why you need access/],
      ['grafana soon INC-1', /`soon` is not a duration/],
      ['grafana 0m INC-1', /`0m` is not a duration/],
      ['revoke 123', /`123` is not a grant id/],
      ['cancel g_abcdefghijklmnopqrstuvwxyz', /not a request id/],
      ['extend g_abcdefghijklmnopqrstuvwxyz later', /`later` is not a duration/],
      ['grafana 1h x --force', /`--force` is not an option/],
    ];
    it.each(inAck)('when the text is %j, then the ack itself refuses: %s', async (text, pattern) => {
      const before = await h.requestKeys();
      const cmd = await h.command('U0KARL', text);
      expect(cmd.status).toBe(200);
      expect(cmd.ack).toMatch(pattern);
      expect(cmd.ack).toMatch(/Use `\/access/);
      expect(await h.requestKeys()).toEqual(before);
    });

    const afterAck: [string, string, RegExp][] = [
      ['U0KARL', 'nosuch 1h INC-1', /There is no resource "nosuch"/],
      ['U0KARL', 'grafana 5h INC-1', /grafana allows at most 4h/],
      ['U0KARL', 'grafana/admin 1h INC-1', /grafana has no role "admin"/],
      ['U0KARL', 'grafana 1h INC-1 --break-glass', /does not allow --break-glass/],
      ['U0KARL', 'vault 1h INC-1', /You may not request vault/],
      ['U0KARL', 'extend g_abcdefghijklmnopqrstuvwxyz 1h more', /There is no grant/],
      ['U0KARL', 'revoke g_abcdefghijklmnopqrstuvwxyz', /There is no grant/],
      ['U0KARL', 'cancel r_abcdefghijklmnopqrstuvwxyz', /no such request/i],
    ];
    it.each(afterAck)('when %s types %j, then the reply refuses: %s', async (user, text, pattern) => {
      const before = await h.requestKeys();
      const reply = await (await h.command(user, text)).reply();
      expect(reply).toMatch(pattern);
      expect(reply).toMatch(/:warning:/);
      expect(await h.requestKeys()).toEqual(before);
    });

    it('when someone revokes a grant that is not theirs and they approve nothing, then they are refused and it stays', async () => {
      await (await h.command('U0ONCALL', 'wiki 1h second time')).reply();
      const grantId = grantIdIn(await (await h.command('U0ONCALL', 'list')).reply());
      const reply = await (await h.command('U0KARL', `revoke ${grantId}`)).reply();
      expect(reply).toMatch(/Only the holder, an approver of this resource or an admin/);
      expect((await h.deps.store.queries.liveGrant(grantId))?.status).toBe('active');
    });

    it('when someone cancels a request that is not theirs, then they are refused and it stays pending', async () => {
      const { requestId } = await h.fileRequest('U0LIAM', 'grafana 1h INC-13');
      const reply = await (await h.command('U0KARL', `cancel ${requestId}`)).reply();
      expect(reply).toMatch(/Only the person who asked can cancel/);
      expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('pending');
    });
  });

  describe('/access: the workspace a request came from', () => {
    it('when a request is filed with the command, then its grant records the workspace, so that only a Slack sign-in of that workspace finds it', async () => {
      const reply = await (await h.command('U0ONCALL', 'wiki 1h workspace check')).reply();
      expect(reply).toMatch(/granted/);
      const grantId = grantIdIn(await (await h.command('U0ONCALL', 'list')).reply());
      const { grants } = await h.deps.store.queries.personAccess(
        'wiki',
        { kind: 'slack', user: 'U0ONCALL', team: TEST_TEAM_ID },
        'sid-0123456789abcdefghijkl',
      );
      expect(grants.find((g) => g.id === grantId)).toMatchObject({ status: 'active', team: TEST_TEAM_ID });
      expect((await h.deps.store.queries.getRequestOfGrant(grantId as GrantId))?.team).toBe(TEST_TEAM_ID);
    });
  });
});
