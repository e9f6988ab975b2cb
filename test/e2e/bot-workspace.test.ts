import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FOREIGN_WORKSPACE_TEXT, WORKSPACE_UNKNOWN_TEXT } from '../../bot/listeners/workspace-guard.js';
import {
  appHomeOpenedBody,
  blockActionsBody,
  slashCommandBody,
  viewSubmissionBody,
} from '../../dev/slack/index.js';
import {
  BOT_TEST_POLICY,
  BOT_TEST_USERGROUPS,
  type BotHarness,
  startBotHarness,
} from '../support/bot-harness.js';

/**
 * Only our workspace: every command, click, form submission and event is checked against the
 * workspace the bot token belongs to (auth.test at start). One from another workspace of the same
 * app (the signing secret is the app's, not the workspace's), or naming none, is refused before any
 * listener runs: nothing stored, nothing posted, the person told where someone waits.
 */

/** A form-encoded interaction payload, changed before it is signed. */
function reshaped(body: string, change: (payload: Record<string, unknown>) => void): string {
  const payload = JSON.parse(new URLSearchParams(body).get('payload') ?? '{}') as Record<string, unknown>;
  change(payload);
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A form-encoded command, changed before it is signed. */
function command(
  fields: Record<string, string | undefined>,
  text = 'grafana 1h INC-1 from elsewhere',
): string {
  const form = new URLSearchParams(slashCommandBody({ userId: 'U0STRANGER', text }));
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) form.delete(k);
    else form.set(k, v);
  }
  return form.toString();
}

describe('a single-workspace install', () => {
  let h: BotHarness;
  beforeAll(async () => {
    // A delivery that names no workspace is left unacknowledged (Bolt answers 404): sooner here.
    h = await startBotHarness({
      policy: BOT_TEST_POLICY,
      usergroups: BOT_TEST_USERGROUPS,
      unhandledRequestTimeoutMs: 500,
    });
  });
  afterAll(async () => h?.stop());

  const nothingStored = async () => expect(await h.requestKeys()).toEqual([]);

  it('when a command comes from another workspace, one inside an Enterprise Grid org, or names none, then it is refused in the ack and nothing is stored', async () => {
    for (const fields of [
      { team_id: 'T0OTHER' },
      { team_id: 'T0OTHER', enterprise_id: 'E0OTHER' },
      { enterprise_id: 'E0SOMEORG' },
      { team_id: undefined },
      { team_id: '' },
    ]) {
      const res = await h.send({ body: command(fields) });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain(FOREIGN_WORKSPACE_TEXT);
    }
    await h.bot.idle();
    await nothingStored();
    expect(h.standin.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('when our own workspace sends the same command, then it is filed (the check lets ours through)', async () => {
    const { requestId } = await h.fileRequest('U0OURS', 'grafana 1h INC-2 ours');
    expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('pending');
  });

  it('when a click comes from another workspace, or from a person of another workspace in a shared channel, then the request stays as it was', async () => {
    const { requestId } = await h.fileRequest('U0BOB', 'grafana 1h INC-3 click me');
    const approve = blockActionsBody({
      userId: 'U0ALICE',
      actionId: 'jit_approve',
      value: requestId,
      messageTs: '1.1',
      responseUrl: h.standin.responseUrl('foreign-click'),
    });
    const variants = [
      reshaped(approve, (p) => {
        p.team = { id: 'T0OTHER', domain: 'other' };
        (p.user as Record<string, unknown>).team_id = 'T0OTHER';
      }),
      // Our workspace's channel, a person of another (Slack Connect): their own user.team_id.
      reshaped(approve, (p) => {
        (p.user as Record<string, unknown>).team_id = 'T0OTHER';
      }),
      reshaped(approve, (p) => {
        p.enterprise = { id: 'E0OTHER', name: 'Other' };
      }),
      reshaped(approve, (p) => {
        p.team = null;
        delete (p.user as Record<string, unknown>).team_id;
      }),
    ];
    const statuses = [];
    for (const body of variants) statuses.push((await h.send({ body })).status);
    // Another workspace's clicks are acknowledged; one naming none is answered 404, as unhandled.
    expect(statuses).toEqual([200, 200, 200, 404]);
    await h.bot.idle();
    expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('pending');
    expect((await h.deps.store.queries.getRequest(requestId))?.approvals).toEqual([]);
    const told = await h.standin.waitFor('response_url', (c) => String(c.body.text).includes('another'));
    expect(told.body.text).toBe(FOREIGN_WORKSPACE_TEXT);
  });

  it('when a form is submitted from another workspace, then nothing is filed; the same form from ours is', async () => {
    const form = (userId: string, teamId?: string) =>
      viewSubmissionBody({
        userId,
        callbackId: 'jit_request',
        ...(teamId ? { teamId } : {}),
        values: {
          jit_resource: { resource: { selected: 'grafana' } },
          jit_duration: { duration: '1h' },
          jit_reason: { reason: 'INC-4 a form' },
        },
      });
    expect((await h.send({ body: form('U0STRANGER2', 'T0OTHER') })).status).toBe(200);
    await h.bot.idle();
    expect((await h.deps.access.list('U0STRANGER2' as never)).pending).toEqual([]);
    await h.send({ body: form('U0FORMOURS') });
    await h.bot.idle();
    expect((await h.deps.access.list('U0FORMOURS' as never)).pending).toHaveLength(1);
  });

  it('when an event comes from another workspace, then nothing is published', async () => {
    const before = h.standin.callsTo('views.publish').length;
    const res = await h.send({ body: appHomeOpenedBody({ userId: 'U0ALICE', teamId: 'T0OTHER' }) });
    expect(res.status).toBe(200);
    await h.bot.idle();
    expect(h.standin.callsTo('views.publish')).toHaveLength(before);
    // Ours still is.
    await h.send({ body: appHomeOpenedBody({ userId: 'U0ALICE' }) });
    await h.standin.waitFor('views.publish', (c) => c.body.user_id === 'U0ALICE');
  });
});

describe('a workspace inside an Enterprise Grid organization', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({
      policy: BOT_TEST_POLICY,
      usergroups: BOT_TEST_USERGROUPS,
      workspace: { enterpriseId: 'E0ORG' },
    });
  });
  afterAll(async () => h?.stop());

  it('when a command comes from our workspace of our org, then it is taken; from a sister workspace or another org, refused', async () => {
    const ours = await h.send({ body: command({ enterprise_id: 'E0ORG', user_id: 'U0GRID' }) });
    expect(await ours.text()).not.toContain(FOREIGN_WORKSPACE_TEXT);
    for (const fields of [{ team_id: 'T0SISTER', enterprise_id: 'E0ORG' }, { enterprise_id: 'E0OTHER' }]) {
      expect(await (await h.send({ body: command(fields) })).text()).toContain(FOREIGN_WORKSPACE_TEXT);
    }
  });
});

describe('an org-wide install', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({
      policy: BOT_TEST_POLICY,
      usergroups: BOT_TEST_USERGROUPS,
      workspace: { enterpriseId: 'E0ORG', enterpriseInstall: true },
    });
  });
  afterAll(async () => h?.stop());

  it('when a command comes from any workspace of our org, then it is taken; from another org or none, refused', async () => {
    const sister = await h.send({
      body: command({ team_id: 'T0SISTER', enterprise_id: 'E0ORG', user_id: 'U0SIS' }),
    });
    expect(await sister.text()).not.toContain(FOREIGN_WORKSPACE_TEXT);
    for (const fields of [{ enterprise_id: 'E0OTHER' }, { enterprise_id: undefined }]) {
      expect(await (await h.send({ body: command(fields) })).text()).toContain(FOREIGN_WORKSPACE_TEXT);
    }
  });
});

describe('a bot that cannot learn its workspace', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('when auth.test fails at start, then every delivery is refused until Slack answers it, and then ours are taken', async () => {
    h = await startBotHarness({
      policy: BOT_TEST_POLICY,
      usergroups: BOT_TEST_USERGROUPS,
      authTestFailures: 3,
    });
    const res = await h.send({ body: command({ user_id: 'U0EARLY' }) });
    // auth.test failed at start and again for this delivery: refused, nothing stored.
    expect(await res.text()).toContain(WORKSPACE_UNKNOWN_TEXT);
    await h.bot.idle();
    expect(await h.requestKeys()).toEqual([]);
    const { requestId } = await h.fileRequest('U0LATER', 'grafana 1h INC-5 later');
    expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('pending');
  });
});

describe('over Socket Mode', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({
      policy: BOT_TEST_POLICY,
      usergroups: BOT_TEST_USERGROUPS,
      transport: 'socket',
    });
  });
  afterAll(async () => h?.stop());

  it('when a command or a click comes from another workspace, then it is refused the same way', async () => {
    const foreign = await h.command('U0SOCKSTRANGER', 'grafana 1h INC-9 from elsewhere', {
      teamId: 'T0OTHER',
    });
    expect(foreign.ack).toContain(FOREIGN_WORKSPACE_TEXT);
    const { requestId } = await h.fileRequest('U0SOCKOURS', 'grafana 1h INC-10 ours');
    await h.click('U0ALICE', 'jit_approve', requestId, { teamId: 'T0OTHER' });
    await h.bot.idle();
    expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('pending');
    expect((await h.deps.access.list('U0SOCKSTRANGER' as never)).pending).toEqual([]);
  });
});
