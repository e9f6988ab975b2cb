import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOT_TEST_POLICY, type BotHarness, startBotHarness } from '../support/bot-harness.js';

/**
 * What the bot does when an effect of a use case cannot be carried out: the change stands, the
 * person who acted is told what was missed, and where it can the bot finds another way.
 */

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness({ policy: BOT_TEST_POLICY, usergroups: { S0SRE: ['U0SRE1'] } });
});
afterAll(async () => h?.stop());

describe('an effect that cannot be carried out', () => {
  it('when the requester cannot be sent their link, then the grant stands and the approver is told so', async () => {
    const { requestId } = await h.fileRequest('U0BOB', 'grafana/viewer 1h INC-404 logs');
    h.standin.failNext('conversations.open', { error: 'user_not_found' });

    await h.click('U0ALICE', 'jit_approve', requestId);

    const reply = await h.waitForEphemeral(
      'U0ALICE',
      /Done, but jitgate could not DM the requester their link/,
    );
    expect(reply).toMatch(/Approved: <@U0BOB> has \*grafana\/viewer\*/);
    expect((await h.deps.store.queries.getRequest(requestId))?.grantStatus).toBe('active');
  });

  it('when the approval channel cannot be reached, then the approvers are asked by DM and the requester is told', async () => {
    h.standin.failNext('chat.postMessage', { error: 'channel_not_found' });

    const cmd = await h.command('U0BOB', 'grafana 1h INC-405 the channel is gone');

    expect(await cmd.reply()).toMatch(
      /approval channel could not be reached, so the approvers were asked by DM instead/,
    );
    expect(await h.waitForDm('U0ALICE', /is waiting for your approval/)).toBeTruthy();
  });
});
