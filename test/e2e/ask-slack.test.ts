import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TEAM_ID } from '../../dev/slack/requests.js';
import {
  ASK,
  type AskHarness,
  form,
  GRAFANA,
  PEOPLE,
  startAskHarness,
  status,
} from '../support/ask-harness.js';
import { ACCESS_HOST } from '../support/signin-harness.js';

describe('blocked, request, continue, signed in with Slack', () => {
  let h: AskHarness;
  beforeAll(async () => {
    h = await startAskHarness({ matchBy: 'slack' });
  }, 30_000);
  afterAll(() => h?.close());

  it('when someone signed in with Slack asks, then the worker files it as their Slack user (no e-mail lookup), with their workspace, and once approved the plain URL is theirs', async () => {
    const { b, page } = await h.signedIn('bob', GRAFANA);
    expect(page).toContain('Signed in as bob@example.com — you have no access to grafana');
    const sent = await b.post(ASK, form(page));
    const id = new URL(sent.location!).searchParams.get('id')!;
    await expect
      .poll(async () => (await status(b, `http://${ACCESS_HOST}`, sent.location!)).json.state)
      .toBe('pending');
    expect(await h.bot.deps.store.queries.getRequest(id)).toMatchObject({
      requester: PEOPLE.bob.slack,
      team: TEST_TEAM_ID,
    });
    expect(h.bot.standin.attemptsTo('users.lookupByEmail')).toEqual([]);
    await h.bot.click(PEOPLE.boss.slack, 'jit_approve', id);
    await expect
      .poll(async () => (await status(b, `http://${ACCESS_HOST}`, sent.location!)).json.state)
      .toBe('approved');
    const back = await b.get(GRAFANA);
    expect(back.status).toBe(200);
    expect((JSON.parse(back.body) as { headers: Record<string, string> }).headers['x-jit-user']).toBe(
      PEOPLE.bob.slack,
    );
  });

  it('when the person already has a request waiting that they filed with /access, then the page follows that one and files no second', async () => {
    const filed = await h.bot.fileRequest(PEOPLE.alice.slack, 'grafana 1h INC-9 from Slack');
    const { b, page } = await h.signedIn('alice', GRAFANA);
    const sent = await b.post(ASK, form(page));
    await expect
      .poll(async () => (await status(b, `http://${ACCESS_HOST}`, sent.location!)).json.requestId)
      .toBe(filed.requestId);
    expect((await status(b, `http://${ACCESS_HOST}`, sent.location!)).json.state).toBe('pending');
    const pending = await h.bot.deps.store.queries.pendingRequestsOf(PEOPLE.alice.slack as never);
    expect(pending.map((r) => r.id)).toEqual([filed.requestId]);
  });
});
