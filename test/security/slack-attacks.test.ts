import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  blockActionsBody,
  signSlackRequest,
  slackRetryHeaders,
  slashCommandBody,
  viewSubmissionBody,
} from '../../dev/slack/requests.js';
import { BOT_TEST_POLICY, type BotHarness, startBotHarness } from '../support/bot-harness.js';
import { botSettled } from '../support/jobs.js';
import { countFigures } from './figures.js';
import { rawPost } from './slack-http.js';

/**
 * Attacks on the bot's Slack surface, from outside, over signed (or badly signed) HTTP exactly as
 * Slack would send them. Each case is refused and changes nothing; after each, the bot still answers.
 *
 * Not repeated here (see test/e2e/bot-transport.test.ts and bot-buttons.test.ts): a wrong signature,
 * another secret, stale and future timestamps at 6 minutes, an empty signature, a body changed after
 * signing, a replayed command, Slack's retries of a command and of app_home_opened, a replayed
 * approve click, 20 approvers racing on a one-approval request, a non-approver's approve and deny,
 * self-approval, a stranger's cancel.
 */
countFigures('attack');

const RACERS = Array.from({ length: 20 }, (_, i) => `U0RACE${String(i).padStart(2, '0')}`);
const APPROVERS = Array.from({ length: 40 }, (_, i) => `U0APPR${String(i).padStart(2, '0')}`);

const POLICY = `${BOT_TEST_POLICY}
  quorum:
    description: Two approvals from a large group
    upstream: http://127.0.0.1:3008
    match: { pathPrefix: /quorum }
    approvers: { usergroups: [S0RACE] }
    approvalsRequired: 2
  brief:
    description: Undecided requests expire in two seconds
    upstream: http://127.0.0.1:3009
    match: { pathPrefix: /brief }
    approvers: { users: [U0ALICE] }
    pendingTimeout: 2s
    nudgeAfter: 1s
`;

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness({
    policy: POLICY,
    usergroups: { S0SRE: ['U0SRE1', 'U0SRE2', ...APPROVERS], S0RACE: RACERS },
    // Deliveries nothing handles get Bolt's 404 after this instead of 3 s.
    unhandledRequestTimeoutMs: 1_000,
  });
});
afterAll(async () => h?.stop());

// After every case: the bot is up, still verifies and still answers a signed command in its ack.
afterEach(async () => {
  expect((await fetch(`${h.baseUrl}/_jitgate/healthz`)).status).toBe(200);
  const help = await h.command('U0HEALTH', 'help');
  expect(help.status).toBe(200);
  expect(help.ack).toMatch(/just-in-time access/);
});

let seq = 0;
/** A fresh Slack user id, so that one case never reads another's replies. */
const person = (tag: string) => {
  seq += 1;
  return `U0${tag}${seq}`.toUpperCase().replace(/[^A-Z0-9]/g, '');
};
/** A fresh approver of grafana (a member of S0SRE). */
let nextApprover = 0;
const approver = () => APPROVERS[nextApprover++ % APPROVERS.length]!;
const nowSec = () => Math.floor(Date.now() / 1000);
const json = (v: unknown) => JSON.stringify(v);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Every delivery so far handled and the work it set off done: then "nothing changed" means something. */
const settled = () => botSettled(h.bot, h.deps.scheduler.queue);
const hmac = (secret: string, ts: number | string, body: string, alg = 'sha256') =>
  createHmac(alg, secret).update(`v0:${ts}:${body}`).digest('hex');

async function request(user: string, text = 'grafana 1h INC-7 attack') {
  return (await h.fileRequest(user, text)).requestId;
}

async function granted(user: string) {
  const requestId = await request(user);
  await h.click(approver(), 'jit_approve', requestId);
  await h.waitForDm(user, /_jitgate\/redeem/);
  const req = await h.deps.store.queries.getRequest(requestId);
  return { requestId, grantId: req!.grantId! };
}

/** Counts of what Slack has been asked to do, and what Redis holds, to show a refusal changed nothing. */
async function snapshot() {
  return { keys: (await h.requestKeys()).length, calls: h.standin.calls.length };
}

describe('Signatures and timestamps: every malformed form is refused with 401 and nothing happens', () => {
  const body = () =>
    slashCommandBody({
      userId: 'U0MALLORY',
      text: 'grafana 1h INC-1 forged',
      responseUrl: h.standin.responseUrl('forged'),
    });
  const form = 'application/x-www-form-urlencoded';
  type Headers = Record<string, string | string[]>;
  const cases: [string, (b: string) => Headers][] = [
    [
      'no signature header at all',
      () => ({ 'content-type': form, 'x-slack-request-timestamp': `${nowSec()}` }),
    ],
    [
      'no timestamp header at all',
      (b) => ({ 'content-type': form, 'x-slack-signature': `v0=${hmac(h.secret, nowSec(), b)}` }),
    ],
    [
      'a timestamp that is not a number',
      (b) => ({
        'content-type': form,
        'x-slack-request-timestamp': 'abc',
        'x-slack-signature': `v0=${hmac(h.secret, 'abc', b)}`,
      }),
    ],
    [
      'a timestamp in exponent form (1.7e9)',
      (b) => ({
        'content-type': form,
        'x-slack-request-timestamp': '1.7e9',
        'x-slack-signature': `v0=${hmac(h.secret, '1.7e9', b)}`,
      }),
    ],
    [
      'a negative timestamp',
      (b) => ({
        'content-type': form,
        'x-slack-request-timestamp': '-1',
        'x-slack-signature': `v0=${hmac(h.secret, '-1', b)}`,
      }),
    ],
    [
      'a timestamp with a fraction',
      (b) => {
        const ts = `${nowSec()}.5`;
        return {
          'content-type': form,
          'x-slack-request-timestamp': ts,
          'x-slack-signature': `v0=${hmac(h.secret, ts, b)}`,
        };
      },
    ],
    [
      'a zero timestamp',
      (b) => ({
        'content-type': form,
        'x-slack-request-timestamp': '0',
        'x-slack-signature': `v0=${hmac(h.secret, 0, b)}`,
      }),
    ],
    [
      'a timestamp 301 s old (just past the limit)',
      (b) => {
        const ts = nowSec() - 301;
        return {
          'content-type': form,
          'x-slack-request-timestamp': `${ts}`,
          'x-slack-signature': `v0=${hmac(h.secret, ts, b)}`,
        };
      },
    ],
    [
      'a timestamp 301 s ahead (just past the limit)',
      (b) => {
        const ts = nowSec() + 301;
        return {
          'content-type': form,
          'x-slack-request-timestamp': `${ts}`,
          'x-slack-signature': `v0=${hmac(h.secret, ts, b)}`,
        };
      },
    ],
    [
      'a signature over another timestamp than the one sent',
      (b) => ({
        'content-type': form,
        'x-slack-request-timestamp': `${nowSec()}`,
        'x-slack-signature': `v0=${hmac(h.secret, nowSec() - 1, b)}`,
      }),
    ],
    [
      'a correct digest under version v1',
      (b) => ({
        'content-type': form,
        'x-slack-request-timestamp': `${nowSec()}`,
        'x-slack-signature': `v1=${hmac(h.secret, nowSec(), b)}`,
      }),
    ],
    [
      'a correct digest without its version',
      (b) => ({
        'content-type': form,
        'x-slack-request-timestamp': `${nowSec()}`,
        'x-slack-signature': hmac(h.secret, nowSec(), b),
      }),
    ],
    [
      'a digest cut one character short',
      (b) => ({
        'content-type': form,
        'x-slack-request-timestamp': `${nowSec()}`,
        'x-slack-signature': `v0=${hmac(h.secret, nowSec(), b).slice(0, -1)}`,
      }),
    ],
    [
      'a digest with one character more',
      (b) => ({
        'content-type': form,
        'x-slack-request-timestamp': `${nowSec()}`,
        'x-slack-signature': `v0=${hmac(h.secret, nowSec(), b)}0`,
      }),
    ],
    [
      'an HMAC-SHA1 digest',
      (b) => ({
        'content-type': form,
        'x-slack-request-timestamp': `${nowSec()}`,
        'x-slack-signature': `v0=${hmac(h.secret, nowSec(), b, 'sha1')}`,
      }),
    ],
    [
      'a digest keyed with an empty secret',
      (b) => ({
        'content-type': form,
        'x-slack-request-timestamp': `${nowSec()}`,
        'x-slack-signature': `v0=${hmac('', nowSec(), b)}`,
      }),
    ],
    [
      'a wrong signature first and the right one second',
      (b) => ({
        'content-type': form,
        'x-slack-request-timestamp': `${nowSec()}`,
        'x-slack-signature': [`v0=${'0'.repeat(64)}`, `v0=${hmac(h.secret, nowSec(), b)}`],
      }),
    ],
    [
      'the right signature first and a wrong one second',
      (b) => ({
        'content-type': form,
        'x-slack-request-timestamp': `${nowSec()}`,
        'x-slack-signature': [`v0=${hmac(h.secret, nowSec(), b)}`, `v0=${'0'.repeat(64)}`],
      }),
    ],
    [
      'two timestamps (a stale one signed, a fresh one beside it)',
      (b) => {
        const old = nowSec() - 3600;
        return {
          'content-type': form,
          'x-slack-request-timestamp': [`${nowSec()}`, `${old}`],
          'x-slack-signature': `v0=${hmac(h.secret, old, b)}`,
        };
      },
    ],
  ];

  it.each(cases)('when a command arrives with %s, then it is refused', async (_what, headersFor) => {
    const b = body();
    const before = await snapshot();
    const res = await rawPost(h.baseUrl, '/slack/events', b, headersFor(b));
    expect(res.status).toBe(401);
    await settled();
    expect(await snapshot()).toEqual(before);
  });

  // Bolt routes on `new URL(req.url).pathname`, which resolves dot segments and absolute-form
  // targets: the timestamp guard in front of it must judge the same path, or a future timestamp
  // slips past it under another spelling of /slack/events.
  it.each([
    '/slack/events/../events',
    '/x/../slack/events',
    '/slack/./events',
    '/slack/%2e%2e/slack/events',
    'http://jitgate.example/slack/events',
  ])(
    'when a request signed an hour ahead is sent to %s (another spelling of /slack/events), then it is refused',
    async (path) => {
      const b = body();
      const ts = nowSec() + 3600;
      const headers = {
        'content-type': form,
        'x-slack-request-timestamp': `${ts}`,
        'x-slack-signature': `v0=${hmac(h.secret, ts, b)}`,
      };
      const before = await snapshot();
      const res = await rawPost(h.baseUrl, path, b, headers);
      expect(res.status).toBeGreaterThanOrEqual(400);
      await settled();
      expect(await snapshot()).toEqual(before);
    },
  );
});

describe('Bodies that are not what Slack sends: refused, and the bot stays up', () => {
  it.each([
    ['a 5 MB body', `payload=${'a'.repeat(5_000_000)}`, undefined],
    ['a payload that is not JSON', 'payload=%7Bnot%20json', undefined],
    ['a form body labelled as JSON', 'payload=%7B%7D', 'application/json'],
    [
      'a block_actions payload without a user',
      `payload=${encodeURIComponent(json({ type: 'block_actions', actions: [{ action_id: 'jit_approve', value: 'r_x' }] }))}`,
      undefined,
    ],
  ])(
    'when the signed body is %s, then it is refused and nothing is stored',
    async (_what, raw, contentType) => {
      const before = await snapshot();
      const signed = signSlackRequest(h.secret, raw);
      const res = await rawPost(h.baseUrl, '/slack/events', raw, {
        ...signed,
        ...(contentType ? { 'content-type': contentType } : {}),
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      await settled();
      expect((await snapshot()).keys).toBe(before.keys);
    },
  );
});

describe('Replays and retries change nothing a second time', () => {
  it('when one approve click is delivered five times at once (a replay and Slack retries), then it counts once', async () => {
    const requester = person('rq');
    const { requestId } = await h.fileRequest(requester, 'quorum 1h INC-20 replayed');
    const body = blockActionsBody({
      userId: RACERS[0]!,
      actionId: 'jit_approve',
      value: requestId,
      messageTs: '1700000000.000200',
    });
    const results = await Promise.all([
      h.send({ body }),
      h.send({ body }),
      h.send({ body, headers: slackRetryHeaders(1) }),
      h.send({ body, headers: slackRetryHeaders(2, 'http_error') }),
      h.send({ body, headers: slackRetryHeaders(3, 'http_timeout') }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await h.waitForEphemeral(RACERS[0]!, /1 of 2/);
    await settled();
    expect((await h.deps.store.queries.getRequest(requestId))?.approvals).toEqual([RACERS[0]]);
    expect(h.ephemeralsTo(RACERS[0]!).filter((t) => t.includes(requestId) || /1 of 2/.test(t))).toHaveLength(
      1,
    );
  });

  it('when a request form submission is replayed, then one request is filed', async () => {
    const user = person('form');
    const body = viewSubmissionBody({
      userId: user,
      callbackId: 'jit_request',
      values: {
        jit_resource: { resource: { selected: 'grafana' } },
        jit_duration: { duration: '1h' },
        jit_reason: { reason: 'INC-21 replayed form' },
      },
    });
    const before = (await h.requestKeys()).length;
    await Promise.all([h.send({ body }), h.send({ body }), h.send({ body, headers: slackRetryHeaders(1) })]);
    await h.standin.waitFor('chat.postMessage', (c) => json(c.body).includes('INC-21 replayed form'));
    await settled();
    expect(
      h.standin.callsTo('chat.postMessage').filter((c) => json(c.body).includes('INC-21 replayed form')),
    ).toHaveLength(1);
    expect((await h.deps.access.list(user as never)).pending).toHaveLength(1);
    expect((await h.requestKeys()).length).toBeGreaterThan(before);
  });

  it('when a deny submission is replayed, then the requester is told once', async () => {
    const requester = person('dr');
    const requestId = await request(requester);
    const decider = approver();
    const body = viewSubmissionBody({
      userId: decider,
      callbackId: 'jit_deny_reason',
      values: { jit_deny_reason: { reason: 'not today' } },
      privateMetadata: requestId,
    });
    await Promise.all([h.send({ body }), h.send({ body }), h.send({ body, headers: slackRetryHeaders(1) })]);
    await h.waitForDm(requester, /denied/);
    await settled();
    expect(h.dmsTo(requester).filter((c) => /denied/.test(json(c.body)))).toHaveLength(1);
    expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('denied');
  });

  it('when a revoke click is replayed, then the grant ends once and the holder is told once', async () => {
    const holder = person('rv');
    const { grantId } = await granted(holder);
    const body = blockActionsBody({
      userId: holder,
      actionId: 'jit_revoke',
      value: grantId,
      messageTs: '1700000000.000300',
    });
    await Promise.all([h.send({ body }), h.send({ body, headers: slackRetryHeaders(1) })]);
    await h.waitForEphemeral(holder, /revoked/i);
    await settled();
    expect(h.ephemeralsTo(holder).filter((t) => /revoked/i.test(t))).toHaveLength(1);
    expect((await h.deps.store.queries.liveGrant(grantId as never))?.status).toBe('revoked');
  });
});

describe('Races: concurrent decisions make exactly one outcome', () => {
  it('when 20 approvers race on a two-approval request, then exactly two approvals count and one grant is minted', async () => {
    const requester = person('race');
    const { requestId } = await h.fileRequest(requester, 'quorum 1h INC-30 race');
    const results = await Promise.all(RACERS.map((u) => h.click(u, 'jit_approve', requestId)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    await h.waitForDm(requester, /_jitgate\/redeem/);
    await expect
      .poll(() => RACERS.filter((u) => h.ephemeralsTo(u).length > 0).length, { timeout: 8000 })
      .toBe(20);
    const req = await h.deps.store.queries.getRequest(requestId);
    expect(req?.status).toBe('approved');
    expect(req?.approvals).toHaveLength(2);
    expect(new Set(req?.approvals).size).toBe(2);
    expect(h.dmsTo(requester).filter((c) => json(c.body).includes('_jitgate/redeem'))).toHaveLength(1);
    expect(await h.deps.store.queries.activeGrantsOf(requester as never)).toHaveLength(1);
  });

  it('when 10 approvals and 10 denials race, then the request is either approved with one grant or denied with none', async () => {
    const requester = person('mix');
    const requestId = await request(requester, 'grafana 1h INC-31 approve-or-deny');
    const deciders = Array.from({ length: 20 }, () => approver());
    await Promise.all(
      deciders.map((u, i) =>
        i % 2 === 0
          ? h.click(u, 'jit_approve', requestId)
          : h.submitView(
              u,
              'jit_deny_reason',
              { jit_deny_reason: { reason: 'race' } },
              { privateMetadata: requestId },
            ),
      ),
    );
    await h.waitForDm(requester, /redeem|denied/);
    await settled();
    const req = await h.deps.store.queries.getRequest(requestId);
    const grants = await h.deps.store.queries.activeGrantsOf(requester as never);
    const outcomeDms = h.dmsTo(requester).filter((c) => /_jitgate\/redeem|denied/.test(json(c.body)));
    expect(outcomeDms).toHaveLength(1);
    if (req?.status === 'approved') {
      expect(grants).toHaveLength(1);
      expect(req.approvals).toHaveLength(1);
    } else {
      expect(req?.status).toBe('denied');
      expect(grants).toHaveLength(0);
      expect(req?.grantId).toBeUndefined();
    }
  });
});

describe('Decisions out of order are refused', () => {
  it('when an approved request is denied afterwards (button and forged form), then the grant stands', async () => {
    const requester = person('da');
    const { requestId, grantId } = await granted(requester);
    const late = approver();
    await h.click(late, 'jit_deny', requestId);
    await h.waitForEphemeral(late, /already been decided|already approved/i);
    await h.submitView(
      late,
      'jit_deny_reason',
      { jit_deny_reason: { reason: 'too late' } },
      { privateMetadata: requestId },
    );
    await settled();
    expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('approved');
    expect((await h.deps.store.queries.liveGrant(grantId as never))?.status).toBe('active');
    expect(
      h.standin
        .callsTo('views.open')
        .some(
          (c) =>
            json(c.body).includes(requestId) &&
            c.body.trigger_id !== undefined &&
            json(c.body).includes(late),
        ),
    ).toBe(false);
  });

  it('when a denied request is approved afterwards, then no grant is minted', async () => {
    const requester = person('ad');
    const requestId = await request(requester);
    await h.submitView(
      approver(),
      'jit_deny_reason',
      { jit_deny_reason: { reason: 'no' } },
      { privateMetadata: requestId },
    );
    await h.waitForDm(requester, /denied/);
    const late = approver();
    await h.click(late, 'jit_approve', requestId);
    await h.waitForEphemeral(late, /already denied|already been decided/i);
    const req = await h.deps.store.queries.getRequest(requestId);
    expect(req?.status).toBe('denied');
    expect(req?.grantId).toBeUndefined();
    expect(await h.deps.store.queries.activeGrantsOf(requester as never)).toHaveLength(0);
  });

  it('when a request that timed out undecided is approved, then it is refused and no grant is minted', async () => {
    const requester = person('ex');
    const requestId = await request(requester, 'brief 1h INC-40 too slow');
    // Real time passes the request's pending timeout (the timeout job may or may not have run yet).
    const { pendingUntil } = (await h.deps.store.queries.getRequest(requestId))!;
    await sleep(pendingUntil - Date.now() + 20);
    await h.click('U0ALICE', 'jit_approve', requestId);
    await h.waitForEphemeral('U0ALICE', /expired/i);
    const req = await h.deps.store.queries.getRequest(requestId);
    expect(req?.status).toBe('expired');
    expect(req?.grantId).toBeUndefined();
  });

  it('when a cancelled request is approved, then it is refused and no grant is minted', async () => {
    const requester = person('cx');
    const requestId = await request(requester);
    await h.click(requester, 'jit_cancel', requestId);
    await h.waitForEphemeral(requester, /cancel/i);
    const late = approver();
    await h.click(late, 'jit_approve', requestId);
    await h.waitForEphemeral(late, /cancelled|already been decided/i);
    expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('cancelled');
    expect(await h.deps.store.queries.activeGrantsOf(requester as never)).toHaveLength(0);
  });

  it('when an approved request is cancelled by its requester, then the grant stands', async () => {
    const requester = person('ca');
    const { requestId, grantId } = await granted(requester);
    await h.click(requester, 'jit_cancel', requestId);
    await h.waitForEphemeral(requester, /already|decided|not pending/i);
    expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('approved');
    expect((await h.deps.store.queries.liveGrant(grantId as never))?.status).toBe('active');
  });

  it('when a revoked grant is approved again through its old request, then no second grant appears', async () => {
    const requester = person('ra');
    const { requestId, grantId } = await granted(requester);
    await h.click(requester, 'jit_revoke', grantId);
    await h.waitForEphemeral(requester, /revoked/i);
    const late = approver();
    await h.click(late, 'jit_approve', requestId);
    await h.waitForEphemeral(late, /already/i);
    expect(await h.deps.store.queries.activeGrantsOf(requester as never)).toHaveLength(0);
    expect((await h.deps.store.queries.getRequest(requestId))?.grantId).toBe(grantId);
  });
});

describe('People who may not decide', () => {
  it('when an approver of another resource approves, then they are refused', async () => {
    const requestId = await request(person('or'));
    await h.click('U0DAVE', 'jit_approve', requestId);
    await h.waitForEphemeral('U0DAVE', /not an approver of grafana/);
    expect((await h.deps.store.queries.getRequest(requestId))?.approvals).toEqual([]);
  });

  it('when an approver files a request and approves it herself (self-approval off), then she is refused', async () => {
    const requestId = await request('U0CAROL', 'grafana 1h INC-50 self');
    await h.click('U0CAROL', 'jit_approve', requestId);
    await h.waitForEphemeral('U0CAROL', /own request|yourself|self/i);
    expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('pending');
  });

  it('when an admin who is no approver approves, then they are refused (admins revoke, they do not approve)', async () => {
    const requestId = await request(person('adm'));
    await h.click('U0ADMIN', 'jit_approve', requestId);
    await h.waitForEphemeral('U0ADMIN', /not an approver/);
    expect((await h.deps.store.queries.getRequest(requestId))?.approvals).toEqual([]);
  });

  it('when a stranger presses Revoke on someone else’s grant, then it stays active', async () => {
    const { grantId } = await granted(person('sg'));
    await h.click('U0MALLORY', 'jit_revoke', grantId);
    await h.waitForEphemeral('U0MALLORY', /Only the holder/);
    expect((await h.deps.store.queries.liveGrant(grantId as never))?.status).toBe('active');
  });

  it('when the click claims an approver’s name but carries a stranger’s id, then the id decides', async () => {
    const requestId = await request(person('nm'));
    const body = blockActionsBody({
      userId: 'U0MALLORY',
      userName: 'alice',
      actionId: 'jit_approve',
      value: requestId,
      messageTs: '1.2',
    });
    await h.send({ body });
    await h.waitForEphemeral('U0MALLORY', /not an approver/);
    expect((await h.deps.store.queries.getRequest(requestId))?.approvals).toEqual([]);
  });
});

describe('Button values that are not what they claim: refused, nothing read or changed', () => {
  const valid = `r_${'a'.repeat(26)}`;
  it.each([
    ['an empty value', ''],
    ['a request id one character short', `r_${'a'.repeat(25)}`],
    ['a request id in upper case', `R_${'A'.repeat(26)}`],
    ['a request id with a newline after it', `${valid}\n`],
    ['a request id with a Redis key separator', `${valid}:approvals`],
    ['a request id with a glob', `r_${'a'.repeat(25)}*`],
    ['a grant id where a request id belongs', `g_${'a'.repeat(26)}`],
    ['10 000 characters', 'r_'.padEnd(10_000, 'a')],
    ['a JSON object', '{"requestId":"r_aaaaaaaaaaaaaaaaaaaaaaaaaa"}'],
  ])('when an approve click carries %s, then it is refused', async (_what, value) => {
    const user = person('bv');
    const before = await snapshot();
    const res = await h.click(user, 'jit_approve', value);
    expect(res.status).toBe(200);
    await h.waitForEphemeral(user, /no valid id|old message/);
    expect((await snapshot()).keys).toBe(before.keys);
  });

  it('when an approve click names a well-formed request that does not exist, then it is refused', async () => {
    const user = approver();
    await h.click(user, 'jit_approve', `r_${'q'.repeat(26)}`);
    await h.waitForEphemeral(user, /no such request/i);
  });

  it('when a revoke click carries a request id, then it is refused', async () => {
    const requester = person('rr');
    const requestId = await request(requester);
    await h.click(requester, 'jit_revoke', requestId);
    await h.waitForEphemeral(requester, /no valid id/);
    expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('pending');
  });

  it('when a click carries two actions, then only the first is read', async () => {
    const requester = person('two');
    const first = await request(requester, 'grafana 1h INC-60 first');
    // Another person's: one person has one undecided request per resource.
    const second = await request(person('two-b'), 'grafana 1h INC-61 second');
    const decider = approver();
    const base = JSON.parse(
      decodeURIComponent(
        blockActionsBody({ userId: decider, actionId: 'jit_approve', value: first, messageTs: '1.3' })
          .slice('payload='.length)
          .replace(/\+/g, ' '),
      ),
    ) as { actions: Record<string, unknown>[] };
    base.actions.push({ ...base.actions[0], value: second, action_ts: '1.4' });
    await h.send({ body: new URLSearchParams({ payload: json(base) }).toString() });
    await h.waitForEphemeral(decider, /Approved/);
    await settled();
    expect((await h.deps.store.queries.getRequest(first))?.status).toBe('approved');
    expect((await h.deps.store.queries.getRequest(second))?.status).toBe('pending');
  });

  it('when a click comes from a user id that is not Slack-shaped, then it is refused', async () => {
    const requestId = await request(person('us'));
    const body = blockActionsBody({
      userId: 'U0ALICE; DEL *',
      actionId: 'jit_approve',
      value: requestId,
      messageTs: '1.5',
    });
    const res = await h.send({ body });
    expect(res.status).toBe(200);
    await settled();
    expect((await h.deps.store.queries.getRequest(requestId))?.approvals).toEqual([]);
  });
});

describe.concurrent('Action and callback ids the bot does not know: never handled (Bolt answers 404 when nothing acks)', () => {
  it.each([
    ['an unknown action id', 'jit_approve_all'],
    ['the approve id in upper case', 'JIT_APPROVE'],
    ['the approve id with a trailing space', 'jit_approve '],
    ['an empty action id', ''],
  ])('when a click carries %s, then nothing changes', async (_what, actionId) => {
    const requestId = await request(person('ua'));
    const res = await h.click('U0ALICE', actionId, requestId);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect((await h.deps.store.queries.getRequest(requestId))?.approvals).toEqual([]);
  });

  it('when a form is submitted under an unknown callback id, then nothing is filed', async () => {
    const user = person('cb');
    const res = await h.submitView(user, 'jit_request_admin', {
      jit_resource: { resource: { selected: 'grafana' } },
      jit_reason: { reason: 'INC-70' },
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect((await h.deps.access.list(user as never)).pending).toHaveLength(0);
  });

  it.each([
    ['JSON that is not an object', '[1,2,3]'],
    [
      'a shortcut payload under an approve callback id',
      `payload=${encodeURIComponent(json({ type: 'message_action', user: { id: 'U0MALLORY' }, callback_id: 'jit_approve', trigger_id: '1.2.3' }))}`,
    ],
  ])('when the signed body is %s, then nothing is stored', async (_what, raw) => {
    const before = (await h.requestKeys()).length;
    const res = await h.send({ body: raw });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect((await h.requestKeys()).length).toBe(before);
  });

  it('when a command other than /access arrives, then it is not handled', async () => {
    const user = person('oc');
    const body = slashCommandBody({ userId: user, command: '/grant', text: 'grafana 1h INC-71' });
    const res = await h.send({ body });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect((await h.deps.access.list(user as never)).pending).toHaveLength(0);
  });
});

describe('Forms and text that try to reach past the policy', () => {
  const submit = (user: string, values: Record<string, Record<string, unknown>>) =>
    h.submitView(user, 'jit_request', values as never);

  it.each([
    [
      'a resource that does not exist',
      { jit_resource: { resource: { selected: 'prod-root' } }, jit_reason: { reason: 'INC-81' } },
      'jit_resource',
    ],
    [
      'a role of another resource',
      {
        jit_resource: { resource: { selected: 'grafana' } },
        jit_role: { role: { selected: 'db/admin' } },
        jit_reason: { reason: 'INC-82' },
      },
      'jit_role',
    ],
    [
      'a role that does not exist',
      {
        jit_resource: { resource: { selected: 'grafana' } },
        jit_role: { role: { selected: 'grafana/owner' } },
        jit_reason: { reason: 'INC-83' },
      },
      'jit_role',
    ],
    [
      'a duration past the maximum',
      {
        jit_resource: { resource: { selected: 'grafana' } },
        jit_duration: { duration: '999h' },
        jit_reason: { reason: 'INC-84' },
      },
      'jit_duration',
    ],
    [
      'a negative duration',
      {
        jit_resource: { resource: { selected: 'grafana' } },
        jit_duration: { duration: '-1h' },
        jit_reason: { reason: 'INC-85' },
      },
      'jit_duration',
    ],
    [
      'a duration that overflows',
      {
        jit_resource: { resource: { selected: 'grafana' } },
        jit_duration: { duration: '9'.repeat(400) + 'h' },
        jit_reason: { reason: 'INC-86' },
      },
      'jit_duration',
    ],
    [
      'a reason of 20 000 characters',
      { jit_resource: { resource: { selected: 'grafana' } }, jit_reason: { reason: 'x'.repeat(20_000) } },
      'jit_reason',
    ],
  ])(
    'when the request form is forged with %s, then the field is refused and nothing is filed',
    async (_what, values, field) => {
      const user = person('ff');
      const res = await submit(user, values);
      expect(res.json).toMatchObject({ response_action: 'errors', errors: { [field]: expect.any(String) } });
      await settled();
      expect((await h.deps.access.list(user as never)).pending).toHaveLength(0);
    },
  );

  it('when the request form is forged with a resource the person may not request, then it is refused privately and nothing is filed', async () => {
    const user = person('vf');
    const res = await submit(user, {
      jit_resource: { resource: { selected: 'vault' } },
      jit_reason: { reason: 'INC-80' },
    });
    expect(res.status).toBe(200);
    await h.waitForDm(user, /may not request vault|not allowed/i);
    expect((await h.deps.access.list(user as never)).pending).toHaveLength(0);
  });

  it.each([
    ['no request id', ''],
    ['a grant id', `g_${'a'.repeat(26)}`],
    ['a request id with JSON around it', `{"requestId":"r_${'a'.repeat(26)}"}`],
  ])('when the deny form’s metadata holds %s, then it is refused', async (_what, privateMetadata) => {
    const res = await h.submitView(
      approver(),
      'jit_deny_reason',
      { jit_deny_reason: { reason: 'x' } },
      { privateMetadata },
    );
    expect(res.json).toMatchObject({ response_action: 'errors' });
  });

  it('when a reason carries Slack markup (a channel ping, a disguised link), then no message carries it live', async () => {
    const user = person('mk');
    const reason = 'INC-90 <!channel> <https://evil.example/login|Okta SSO> <@U0ADMIN> <!subteam^S0SRE>';
    const { requestId } = await h.fileRequest(user, `grafana 1h ${reason}`);
    const posted = h.standin.calls.filter((c) => json(c.body).includes(requestId)).map((c) => json(c.body));
    expect(posted.length).toBeGreaterThan(0);
    for (const text of posted) {
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<https://evil.example');
      expect(text).not.toContain('<!subteam^S0SRE>');
      expect(text).not.toContain('<@U0ADMIN>');
    }
    expect(posted.some((t) => t.includes('&lt;!channel&gt;'))).toBe(true);
  });

  it('when a command comes from a user id that is not Slack-shaped, then nothing is filed', async () => {
    const before = (await h.requestKeys()).length;
    const body = slashCommandBody({
      userId: 'alice@example.com',
      text: 'grafana 1h INC-91',
      responseUrl: h.standin.responseUrl('badid'),
    });
    const res = await h.send({ body });
    expect(res.status).toBeLessThan(500);
    await settled();
    expect((await h.requestKeys()).length).toBe(before);
  });

  it('when the one-line request asks for another user’s grant to be extended, then it is refused', async () => {
    const { grantId } = await granted(person('xg'));
    const mallory = person('ml');
    const cmd = await h.command(mallory, `extend ${grantId} 1h mine now`);
    const reply = cmd.ack || (await cmd.reply());
    expect(reply).toMatch(/not yours|only the holder|your own|not allowed/i);
    expect(await h.deps.store.queries.pendingRequestsOf(mallory as never)).toHaveLength(0);
  });

  it('when a granted link is asked for by someone else with list, then no id or link of theirs shows', async () => {
    const holder = person('hl');
    const { grantId } = await granted(holder);
    const other = person('ot');
    const reply = await (await h.command(other, 'list')).reply();
    expect(reply).not.toContain(grantId);
    expect(reply).not.toContain(holder);
  });

  it('when all of the above is done, then Slack holds no bot token, signing secret or access token', () => {
    const all = json(h.standin.calls.map((c) => c.body));
    expect(all).not.toContain(h.botToken);
    expect(all).not.toContain(h.secret);
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./);
  });
});
