import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NUDGES_PER_APPROVER_PER_HOUR } from '../../bot/slack/nudge-budget.js';
import type { RequestId, SlackUserId } from '../../shared/ids.js';
import {
  BOT_TEST_POLICY,
  BOT_TEST_USERGROUPS,
  type BotHarness,
  requestIdIn,
  startBotHarness,
} from '../support/bot-harness.js';

/**
 * Bounded requests and nudges, through the signed Slack request path: one person's flood of
 * `/access` commands files only what the limits allow, each refused one is told why (naming the
 * pending ones and how to cancel them), and approvers are nudged at most once per request and a
 * bounded number of times an hour.
 */

/** The test policy and one resource that does without e-mail addresses. */
const POLICY = `${BOT_TEST_POLICY}  kiosk:
    upstream: http://127.0.0.1:3007
    match: { pathPrefix: /kiosk }
    approvers: { users: [U0ALICE] }
    requireEmail: false
`;

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness({
    policy: POLICY,
    usergroups: BOT_TEST_USERGROUPS,
    users: { U0NOMAIL: { email: null }, U0BLANK: { email: '  ' } },
  });
});
afterAll(async () => h?.stop());

const postsAbout = (user: string) =>
  h.standin
    .callsTo('chat.postMessage')
    .filter((c) => c.body.channel === 'C0APPROVALS' && JSON.stringify(c.body).includes(user));

describe('a flood of requests from one person', () => {
  it('when 45 signed /access commands arrive at once, then one request per resource is filed and posted, and every other one is told why', async () => {
    const user = 'U0FLOOD';
    const resources = ['grafana', 'db', 'staging'];
    const commands = await Promise.all(
      Array.from({ length: 45 }, (_, i) => h.command(user, `${resources[i % 3]} 1h INC-${i} flood`)),
    );
    expect(commands.every((c) => c.status === 200)).toBe(true);
    const replies = await Promise.all(commands.map((c) => c.reply(15_000)));
    const filed = replies.filter((r) => /Asked for 1h of/.test(r));
    const refused = replies.filter((r) => /waiting for a decision/.test(r));
    expect(filed).toHaveLength(3);
    expect(refused).toHaveLength(42);
    for (const text of refused) expect(text).toMatch(/\/access cancel/);
    const pending = (await h.deps.access.list(user as SlackUserId)).pending;
    expect(pending.map((r) => r.resource).sort()).toEqual([...resources].sort());
    // Every refusal names the one pending request it ran into.
    for (const text of refused) expect(pending.some((r) => text.includes(r.id))).toBe(true);
    await h.bot.idle();
    expect(postsAbout(user)).toHaveLength(3);
  });

  it('when a person cancels their pending request, then they can ask for that resource again', async () => {
    const user = 'U0AGAIN';
    const first = requestIdIn(await (await h.command(user, 'grafana 1h INC-1 first')).reply());
    const refused = await (await h.command(user, 'grafana 2h INC-2 second')).reply();
    expect(refused).toContain(first);
    expect(await (await h.command(user, `cancel ${first}`)).reply()).toMatch(/cancel/i);
    expect(await (await h.command(user, 'grafana 2h INC-3 third')).reply()).toMatch(/Asked for 2h of/);
  });
});

describe('nudges', () => {
  async function pendingRequest(user: string, resource = 'grafana'): Promise<RequestId> {
    return (await h.fileRequest(user, `${resource} 1h INC-7 nudge me`)).requestId as RequestId;
  }
  const nudgeDmsTo = (user: string, requestId?: string) =>
    h
      .dmsTo(user)
      .filter((c) => /waiting for your approval/.test(JSON.stringify(c.body)))
      .filter((c) => requestId === undefined || JSON.stringify(c.body).includes(requestId));

  it('when a request is nudged twice (the scheduled nudge and the unposted fallback, or a retry), then each approver gets one DM', async () => {
    const requestId = await pendingRequest('U0NUDGE1', 'staging');
    const request = (await h.deps.store.queries.getRequest(requestId))!;
    await h.deps.notifier.nudgeApprovers(request);
    await h.deps.notifier.nudgeApprovers(request);
    await h.deps.notifier.nudgeApprovers(request);
    expect(nudgeDmsTo('U0BOB', requestId)).toHaveLength(1);
    expect(nudgeDmsTo('U0ALICE', requestId)).toHaveLength(1);
  });

  it('when many people’s requests are nudged, then an approver gets at most their hourly share of nudge DMs', async () => {
    const ids = [];
    for (let i = 0; i < NUDGES_PER_APPROVER_PER_HOUR + 6; i++) ids.push(await pendingRequest(`U0MANY${i}`));
    for (const id of ids) await h.deps.notifier.nudgeApprovers((await h.deps.store.queries.getRequest(id))!);
    expect(nudgeDmsTo('U0CAROL')).toHaveLength(NUDGES_PER_APPROVER_PER_HOUR);
    // Instead of the rest: one note that more wait, once.
    const notes = h
      .dmsTo('U0CAROL')
      .filter((c) => /than jitgate nudges you about/.test(JSON.stringify(c.body)));
    expect(notes).toHaveLength(1);
    // The rest still wait in the approval channel and in App Home; nothing else was lost.
    expect((await h.deps.access.awaiting('U0CAROL' as SlackUserId)).length).toBeGreaterThanOrEqual(
      ids.length,
    );
  });
});

describe('people without an e-mail address', () => {
  it('when Slack has no e-mail for the person, then a resource that requires one refuses them and stores nothing', async () => {
    for (const user of ['U0NOMAIL', 'U0BLANK']) {
      const reply = await (await h.command(user, 'grafana 1h INC-5 no mail')).reply();
      expect(reply).toMatch(/needs your e-mail address/);
      expect(reply).toMatch(/nothing was filed/);
      expect((await h.deps.access.list(user as SlackUserId)).pending).toEqual([]);
    }
  });

  it('when Slack cannot be asked (users.info fails), then the request is refused the same way, not filed without an address', async () => {
    h.standin.failNext('users.info', { error: 'user_not_found' });
    const reply = await (await h.command('U0LOOKUPFAILS', 'grafana 1h INC-6 lookup fails')).reply();
    expect(reply).toMatch(/needs your e-mail address/);
  });

  it('when the resource does without e-mail, then the grant carries none at all', async () => {
    const { requestId } = await h.fileRequest('U0NOMAIL', 'kiosk 1h INC-8 fine without');
    await h.click('U0ALICE', 'jit_approve', requestId);
    await h.waitForDm('U0NOMAIL', /_jitgate\/redeem/);
    const request = await h.deps.store.queries.getRequest(requestId);
    expect(request?.email).toBe('');
    const live = await h.deps.store.queries.liveGrant(request!.grantId!);
    expect(live).toMatchObject({ status: 'active', email: '' });
  });
});
