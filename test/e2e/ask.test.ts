import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askerHash } from '../../shared/asks/index.js';
import {
  ASK,
  type AskHarness,
  fieldOf,
  form,
  GRAFANA,
  PEOPLE,
  startAskHarness,
  status,
} from '../support/ask-harness.js';
import type { CookieBrowser } from '../support/cookie-browser.js';
import { keysMatching } from '../support/redis.js';
import { ACCESS_HOST, HOSTED_HOST } from '../support/signin-harness.js';

describe('blocked, request, continue (a signed-in person asks on the refusal page)', () => {
  let h: AskHarness;
  beforeAll(async () => {
    h = await startAskHarness();
  }, 30_000);
  afterAll(() => h?.close());

  const askKeys = async () => keysMatching(h.bot.redis, `${h.bot.keys.prefix}:ask:*`);
  const queued = async () =>
    (
      await h.bot.deps.scheduler.queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed'])
    ).filter((j) => j.name === 'file-ask');

  it('when a signed-in person without a grant opens a resource, then the page says who they are and offers a form with only its roles, its default and its maximum', async () => {
    const { page, status: code } = await h.signedIn('alice', GRAFANA);
    expect(code).toBe(403);
    expect(page).toContain('Signed in as alice@example.com — you have no access to grafana');
    expect(page).toContain('<option value="viewer" selected>viewer (GET, HEAD)</option>');
    expect(page).toContain('<option value="editor">editor (any method)</option>');
    expect(page.match(/<option /g)).toHaveLength(2);
    expect(fieldOf(page, 'duration')).toBe('30m');
    expect(page).toContain('at most 2h');
    expect(fieldOf(page, 'return')).toBe('/grafana/d/errors?from=now-1h');
  });

  it('when the form is sent, then the bot files the request as /access does (approval message, DM), and once approved the page is told to go back where it was refused', async () => {
    const { b, page } = await h.signedIn('alice', GRAFANA);
    const sent = await b.post(ASK, form(page, { role: 'editor', duration: '45m' }));
    expect(sent.status).toBe(303);
    const waiting = sent.location!;
    const id = new URL(waiting).searchParams.get('id')!;
    expect(id).toMatch(/^r_[a-z2-7]{26}$/);

    const approval = await h.bot.standin.waitFor(
      'chat.postMessage',
      (c) => c.body.channel === 'C0APPROVALS' && JSON.stringify(c.body).includes(id),
    );
    expect(JSON.stringify(approval.body)).toContain('INC-7 checking error rates');
    await h.bot.waitForDm(PEOPLE.alice.slack, new RegExp(id));
    const request = await h.bot.deps.store.queries.getRequest(id);
    expect(request).toMatchObject({
      requester: PEOPLE.alice.slack,
      email: PEOPLE.alice.email,
      resource: 'grafana',
      role: 'editor',
      durationMs: 45 * 60_000,
      status: 'pending',
    });

    const page2 = await b.get(waiting);
    expect(page2.status).toBe(200);
    expect(page2.body).toContain(id);
    expect(page2.headers['content-security-policy']).toMatch(/script-src 'nonce-/);
    expect((await status(b, `http://${ACCESS_HOST}`, waiting)).json).toMatchObject({
      state: 'pending',
      requestId: id,
    });

    await h.bot.click(PEOPLE.boss.slack, 'jit_approve', id);
    await expect
      .poll(async () => (await status(b, `http://${ACCESS_HOST}`, waiting)).json.state)
      .toBe('approved');
    expect((await status(b, `http://${ACCESS_HOST}`, waiting)).json.continueTo).toBe(
      '/grafana/d/errors?from=now-1h',
    );
    // Going back there, the session finds the new grant: the upstream sees who it is.
    const back = await b.get(GRAFANA);
    expect(back.status).toBe(200);
    const seen = JSON.parse(back.body) as { headers: Record<string, string>; path: string };
    expect(seen.path).toBe('/d/errors?from=now-1h');
    expect(seen.headers).toMatchObject({
      'x-jit-user': PEOPLE.alice.slack,
      'x-jit-email': PEOPLE.alice.email,
      'x-jit-role': 'editor',
    });
  });

  it('when the form is sent again while a request waits, then the page follows the waiting one and nothing new is filed', async () => {
    const { b, page } = await h.signedIn('bob', GRAFANA);
    const first = await b.post(ASK, form(page));
    await expect
      .poll(async () => (await status(b, `http://${ACCESS_HOST}`, first.location!)).json.state)
      .toBe('pending');
    const again = await b.post(ASK, form(page, { reason: 'again' }));
    expect(again.location).toBe(first.location);
    // Opening the resource again shows the waiting request instead of a new form.
    const reopened = await b.get(GRAFANA);
    expect(reopened.status).toBe(403);
    expect(reopened.body).toContain(new URL(first.location!).searchParams.get('id')!);
    expect(reopened.body).not.toContain('name="csrf"');
    const bobs = await h.bot.deps.store.queries.pendingRequestsOf(PEOPLE.bob.slack as never);
    expect(bobs.filter((r) => r.resource === 'grafana')).toHaveLength(1);
  });

  describe('forged posts are refused and store nothing', () => {
    let b: CookieBrowser;
    let page: string;
    let before: string[];
    beforeAll(async () => {
      ({ b, page } = await h.signedIn('carol', `http://${ACCESS_HOST}/quick/`));
      before = await askKeys();
    });

    it.each([
      ['without the anti-forgery token', (f: Record<string, string>) => ({ ...f, csrf: '' }), {}],
      [
        'with a made-up token',
        (f: Record<string, string>) => ({
          ...f,
          csrf: `${f.csrf!.split('.')[0]}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
        }),
        {},
      ],
      ['from another site (Origin)', (f: Record<string, string>) => f, { origin: 'http://evil.test' }],
      ['from a sibling host (Origin)', (f: Record<string, string>) => f, { origin: `http://${HOSTED_HOST}` }],
      ['with Origin: null (an opaque origin)', (f: Record<string, string>) => f, { origin: 'null' }],
      ['with neither Origin nor Referer', (f: Record<string, string>) => f, { origin: '' }],
    ])('when a post comes %s, then it is refused with 403', async (_what, change, headers) => {
      const answer = await b.post(ASK, change(form(page)), headers as Record<string, string>);
      expect(answer.status).toBe(403);
      expect(answer.body).toContain('csrf_refused');
      expect(await askKeys()).toEqual(before);
    });

    it("when a post carries another session's token, then it is refused", async () => {
      const other = await h.signedIn('bob', `http://${ACCESS_HOST}/quick/`);
      const answer = await b.post(ASK, form(page, { csrf: fieldOf(other.page, 'csrf') }));
      expect(answer.status).toBe(403);
      expect(await askKeys()).toEqual(before);
    });

    it('when a post comes with no session, then it is refused with 401', async () => {
      const answer = await h.browser().post(ASK, form(page));
      expect(answer.status).toBe(401);
      expect(await askKeys()).toEqual(before);
    });
  });

  describe('bad input comes back in the form, with the words /access uses, and nothing is stored', () => {
    let b: CookieBrowser;
    let page: string;
    beforeAll(async () => {
      ({ b, page } = await h.signedIn('carol', `http://${ACCESS_HOST}/grafana/`));
    });

    it.each([
      ['a duration over the maximum', { duration: '9h' }, 'grafana 9h INC-1', 'duration'],
      ['a duration that is not one', { duration: 'soon' }, 'grafana soon INC-1', 'duration'],
      ['no reason', { reason: '   ' }, 'grafana 1h', 'reason'],
      ['a role the resource does not have', { role: 'admin' }, 'grafana/admin 1h INC-1', 'role'],
    ])(
      'when the form has %s, then it is shown again with the message',
      async (_what, changes, command, field) => {
        const before = await askKeys();
        const answer = await b.post(ASK, form(page, changes));
        expect(answer.status).toBe(400);
        const message = /<p class="error" id="ask-error" role="alert" data-field="(\w+)">([^<]*)<\/p>/.exec(
          answer.body,
        );
        expect(message?.[1]).toBe(field);
        // The same sentence as the command gives for the same input.
        const reply = await h.bot.command(PEOPLE.bob.slack, command);
        const said = reply.ack || (await reply.reply());
        expect(said).toContain(
          message![2]!
            .replace(/&#39;/g, "'")
            .replace(/&quot;/g, '"')
            .slice(0, 40),
        );
        for (const [k, v] of Object.entries(changes))
          if (k !== 'role') expect(answer.body).toContain(v.trim());
        expect(fieldOf(answer.body, 'csrf')).toBe(fieldOf(page, 'csrf'));
        expect(await askKeys()).toEqual(before);
      },
    );
  });

  it('when someone else asks for the status of a request, then it is unknown to them; with no session, 401', async () => {
    const { b, page } = await h.signedIn('alice', `http://${ACCESS_HOST}/quick/x`);
    const sent = await b.post(ASK, form(page, { role: '' }));
    const mine = await status(b, `http://${ACCESS_HOST}`, sent.location!);
    expect(mine.status).toBe(200);
    const bob = await h.signedIn('bob', `http://${ACCESS_HOST}/grafana/`);
    const theirs = await status(bob.b, `http://${ACCESS_HOST}`, sent.location!);
    expect(theirs.status).toBe(404);
    expect(theirs.json).toMatchObject({ error: 'no_such_request' });
    expect((await bob.b.get(sent.location!)).status).toBe(404);
    expect((await status(h.browser(), `http://${ACCESS_HOST}`, sent.location!)).status).toBe(401);
  });

  it('when the approver denies, then the page says denied (and why)', async () => {
    const { b, page } = await h.signedIn('alice', `http://${HOSTED_HOST}/`);
    const sent = await b.post(`http://${HOSTED_HOST}/_jitgate/ask`, form(page, { role: '' }));
    expect(sent.status).toBe(303);
    const id = new URL(sent.location!).searchParams.get('id')!;
    await expect
      .poll(async () => (await h.bot.deps.store.queries.getRequest(id))?.status, { timeout: 5_000 })
      .toBe('pending');
    await h.bot.click(PEOPLE.boss.slack, 'jit_deny', id);
    await h.bot.standin.waitFor('views.open', (c) => JSON.stringify(c.body).includes(id));
    await h.bot.submitView(
      PEOPLE.boss.slack,
      'jit_deny_reason',
      { jit_deny_reason: { reason: 'use the staging one' } },
      { privateMetadata: id },
    );
    await expect
      .poll(async () => (await status(b, `http://${HOSTED_HOST}`, sent.location!)).json.state)
      .toBe('denied');
    const answer = await status(b, `http://${HOSTED_HOST}`, sent.location!);
    expect(answer.json.message).toContain('use the staging one');
    expect(answer.json.back).toBe('/');
  });

  it('when nobody decides before pendingTimeout, then the page says it timed out', async () => {
    const { b, page } = await h.signedIn('bob', `http://${ACCESS_HOST}/quick/`);
    const sent = await b.post(ASK, form(page, { role: '' }));
    await expect
      .poll(async () => (await status(b, `http://${ACCESS_HOST}`, sent.location!)).json.state, {
        timeout: 8_000,
        interval: 250,
      })
      .toBe('timed-out');
  });

  it('when Slack has no account with the e-mail the IdP gave, then the worker refuses and the page says so; nothing is filed', async () => {
    const { b, page } = await h.signedIn('carol', `http://${ACCESS_HOST}/grafana/`);
    const sent = await b.post(ASK, form(page));
    const id = new URL(sent.location!).searchParams.get('id')!;
    await expect
      .poll(async () => (await status(b, `http://${ACCESS_HOST}`, sent.location!)).json.state)
      .toBe('refused');
    expect((await status(b, `http://${ACCESS_HOST}`, sent.location!)).json.message).toContain(
      'no Slack account for carol@example.com',
    );
    expect(await h.bot.deps.store.queries.getRequest(id)).toBeUndefined();
    expect(
      h.bot.standin.attemptsTo('users.lookupByEmail').some((c) => c.body.email === PEOPLE.carol.email),
    ).toBe(true);
    expect((await queued()).some((j) => j.data.requestId === id && j.returnvalue === 'refused')).toBe(true);
    // The refusal frees the slot: the form is offered again.
    expect((await b.get(`http://${ACCESS_HOST}/grafana/`)).body).toContain('name="csrf"');
    expect(askerHash({ kind: 'email', email: PEOPLE.carol.email })).not.toContain('carol');
  });

  it('when a bearer-only resource (pathPrefix without shared-origin) refuses a signed-in browser, then no form is offered', async () => {
    const { status: code, page } = await h.signedIn('alice', `http://${ACCESS_HOST}/api/x`);
    expect(code).toBe(401);
    expect(page).not.toContain('name="csrf"');
  });
});
