import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendToBot, slackRetryHeaders, slashCommandBody } from '../../dev/slack/requests.js';
import { countFigures } from '../security/figures.js';
import { botSettled } from '../support/jobs.js';
import { REDIS_URL } from '../support/redis.js';
import { dmsMatching, requestIdFor, type Stack, sleep, startStack } from './stack.js';

/**
 * The bot is restarted in the middle of an approval (a deploy, a crash loop): a new bot on the same
 * Redis picks up where the old one stopped, a click in flight finishes before the old one exits, and
 * a delivery that reached the old one while it was stopping is handled once by the new one when
 * Slack retries it.
 */
countFigures('fault');

let stack: Stack;
beforeAll(async () => {
  stack = await startStack(REDIS_URL);
});
afterAll(async () => stack?.close());

const json = (v: unknown) => JSON.stringify(v);

async function auditTypes(requestId: string): Promise<string[]> {
  const entries = (await stack.redis.xrange(stack.keys.auditStream, '-', '+')) as [string, string[]][];
  return entries
    .map(([, flat]) => JSON.parse(flat[flat.indexOf('e') + 1]!) as Record<string, unknown>)
    .filter((e) => e.requestId === requestId)
    .map((e) => String(e.type));
}

describe('The bot restarts mid-approval', () => {
  it('when the bot restarts between the two approvals of a request, then the new bot grants it, updates the same message and DMs the link once', async () => {
    const first = await stack.startBot({ worker: true });
    await first.command('U0FRAN', 'pair 1h INC-1 restart between approvals');
    const requestId = await requestIdFor(stack, 'INC-1 restart between approvals');
    await first.click('U0ALICE', 'jit_approve', requestId);
    await stack.standin.waitFor(
      'chat.postEphemeral',
      (c) => c.body.user === 'U0ALICE' && /1 of 2/.test(String(c.body.text)),
    );
    await first.stop();

    const second = await stack.startBot({ worker: true });
    try {
      await second.click('U0CAROL', 'jit_approve', requestId);
      await stack.standin.waitFor(
        'chat.postMessage',
        (c) => c.body.channel === 'D0FRAN' && /_jitgate\/redeem/.test(json(c.body)),
      );
      const request = await stack.store.queries.getRequest(requestId);
      expect(request?.status).toBe('approved');
      expect([...(request?.approvals ?? [])].sort()).toEqual(['U0ALICE', 'U0CAROL']);
      await expect
        .poll(() =>
          stack.standin
            .callsTo('chat.update')
            .some((c) => c.body.ts === request!.message!.ts && /Approved/.test(json(c.body))),
        )
        .toBe(true);
      await botSettled(second.bot, second.deps.scheduler.queue);
      expect(dmsMatching(stack, 'U0FRAN', /_jitgate\/redeem/)).toHaveLength(1);
      expect(
        stack.standin
          .callsTo('chat.postMessage')
          .filter((c) => json(c.body).includes(requestId) && c.body.channel === 'C0APPROVALS'),
      ).toHaveLength(1);
      expect(await auditTypes(requestId)).toEqual([
        'request.created',
        'request.approved',
        'request.approved',
        'grant.issued',
      ]);
    } finally {
      await second.stop();
    }
  });

  it('when the bot is stopped while an approval is being handled, then the handling finishes before it exits', async () => {
    const bot = await stack.startBot({ worker: false });
    await bot.command('U0GINA', 'app 1h INC-2 stop mid-click');
    const requestId = await requestIdFor(stack, 'INC-2 stop mid-click');
    // Slack answers slowly: the click's work (DM, message update, reply) takes seconds after the ack.
    stack.standin.setLatency(700);
    try {
      const click = await bot.click('U0ALICE', 'jit_approve', requestId);
      expect(click.status).toBe(200);
      await bot.stop();
      // By the time stop() returns, the work the click started is done.
      expect((await stack.store.queries.getRequest(requestId))?.status).toBe('approved');
      expect(dmsMatching(stack, 'U0GINA', /_jitgate\/redeem/)).toHaveLength(1);
      expect(
        stack.standin
          .callsTo('chat.postEphemeral')
          .some((c) => c.body.user === 'U0ALICE' && /Approved: <@U0GINA>/.test(String(c.body.text))),
      ).toBe(true);
    } finally {
      stack.standin.setLatency(0);
    }
  });

  it('when a command reaches the bot while it stops, then Slack’s retry to the new bot files it once', async () => {
    const old = await stack.startBot({ worker: false });
    await old.command('U0HUGO', 'app 1h INC-3 keeps old busy');
    const busy = await requestIdFor(stack, 'INC-3 keeps old busy');
    stack.standin.setLatency(600);
    let stopping: Promise<void> | undefined;
    try {
      await old.click('U0ALICE', 'jit_approve', busy);
      stopping = old.stop();
      await sleep(20);
      const body = slashCommandBody({
        userId: 'U0HUGO',
        text: 'app 1h INC-4 during the restart',
        responseUrl: stack.standin.responseUrl('during-restart'),
      });
      // The old bot either refuses the connection or acks with "restarting; try again".
      const toOld = await sendToBot(old.baseUrl, { body, secret: stack.secret })
        .then(async (r) => ({ status: r.status, text: await r.text() }))
        .catch(() => ({ status: 0, text: '' }));
      if (toOld.status === 200) expect(toOld.text).toMatch(/restarting|^$/);
      await stopping;
      stack.standin.setLatency(0);

      const fresh = await stack.startBot({ worker: false });
      try {
        const retried = await sendToBot(fresh.baseUrl, {
          body,
          secret: stack.secret,
          headers: slackRetryHeaders(1),
        });
        expect(retried.status).toBe(200);
        const requestId = await requestIdFor(stack, 'INC-4 during the restart');
        await fresh.bot.idle();
        expect(
          stack.standin
            .callsTo('chat.postMessage')
            .filter((c) => json(c.body).includes('INC-4 during the restart')),
        ).toHaveLength(1);
        expect(
          stack.standin.callsTo('response_url').filter((c) => c.path.endsWith('during-restart')),
        ).toHaveLength(1);
        expect((await stack.store.queries.getRequest(requestId))?.status).toBe('pending');
        expect(
          (await stack.store.queries.pendingRequestsOf('U0HUGO' as never)).filter((r) =>
            r.reason.includes('INC-4'),
          ),
        ).toHaveLength(1);
      } finally {
        await fresh.stop();
      }
    } finally {
      stack.standin.setLatency(0);
      await stopping?.catch(() => {});
    }
  });
});
