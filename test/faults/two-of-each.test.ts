import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countFigures } from '../security/figures.js';
import { queueSettled } from '../support/jobs.js';
import { REDIS_URL } from '../support/redis.js';
import {
  type AuthorizerNode,
  type BotNode,
  dmsMatching,
  redeemLinkFor,
  requestIdFor,
  type Stack,
  sleep,
  startStack,
} from './stack.js';

/**
 * Two workers and two authorizers on one Redis, as DESIGN.md allows ("any number side by side"):
 * every job runs once (each DM and each message update goes out once), every audit event is written
 * once, and a revocation or an expiry is seen by both authorizers on the very next request.
 */
countFigures('fault');

let stack: Stack;
let bot: BotNode;
let a: AuthorizerNode;
let b: AuthorizerNode;
const HOLDERS = ['U0H1', 'U0H2', 'U0H3', 'U0H4', 'U0H5', 'U0H6'];
const WAITERS = ['U0W1', 'U0W2', 'U0W3'];

beforeAll(async () => {
  stack = await startStack(REDIS_URL);
  bot = await stack.startBot({ worker: false });
  await stack.startWorker();
  await stack.startWorker();
  [a, b] = await Promise.all([stack.startAuthorizer(), stack.startAuthorizer()]);
});
afterAll(async () => stack?.close());

async function auditEvents(): Promise<Record<string, unknown>[]> {
  const entries = (await stack.redis.xrange(stack.keys.auditStream, '-', '+')) as [string, string[]][];
  return entries.map(([, flat]) => JSON.parse(flat[flat.indexOf('e') + 1]!) as Record<string, unknown>);
}

const get = (url: string, token: string) =>
  fetch(`${url}/app/x`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

describe('Two workers and two authorizers share one Redis', () => {
  it('when grants are used on both authorizers, revoked and left to expire, and requests time out, then every effect happens once', async () => {
    // Three requests nobody decides (they time out after 2 s).
    const waiting: string[] = [];
    for (const [i, user] of WAITERS.entries()) {
      await bot.command(user, `quick 1h INC-W${i} undecided`);
      waiting.push(await requestIdFor(stack, `INC-W${i} undecided`));
    }

    // Six 3-second grants, each redeemed through one authorizer and used through both at once (as
    // soon as it is redeemed: on a busy machine the first could end before the sixth is minted).
    const grants: { user: string; requestId: string; token: string }[] = [];
    const statuses: number[] = [];
    for (const [i, user] of HOLDERS.entries()) {
      await bot.command(user, `app 3s INC-${i} two-of-each`);
      const requestId = await requestIdFor(stack, `INC-${i} two-of-each`);
      await bot.click('U0ALICE', 'jit_approve', requestId);
      const token = await stack.redeem(i % 2 ? a.url : b.url, await redeemLinkFor(stack, user));
      grants.push({ user, requestId, token });
      statuses.push(...(await Promise.all([a.url, b.url, a.url, b.url].map((url) => get(url, token)))));
    }
    expect(statuses).toHaveLength(24);
    expect(statuses.every((s) => s === 200)).toBe(true);

    // One revoked (the youngest, so that it is surely still live): both authorizers refuse it on the
    // next request.
    const revoked = grants.at(-1)!;
    await bot.click(
      revoked.user,
      'jit_revoke',
      (await stack.store.queries.getRequest(revoked.requestId))!.grantId!,
    );
    await stack.standin.waitFor(
      'chat.postEphemeral',
      (c) => c.body.user === revoked.user && /revoked/i.test(String(c.body.text)),
    );
    expect(await get(a.url, revoked.token)).toBe(401);
    expect(await get(b.url, revoked.token)).toBe(401);

    // Past every expiry and timeout, with time for both workers to race on each job.
    const lastExpiry = Math.max(
      ...(await Promise.all(
        grants.map(async (g) => (await stack.store.queries.getRequest(g.requestId))!.expiresAt!),
      )),
    );
    await sleep(Math.max(0, lastExpiry - Date.now()) + 300);
    for (const g of grants) {
      expect(await get(a.url, g.token)).toBe(401);
      expect(await get(b.url, g.token)).toBe(401);
    }
    await expect
      .poll(
        () =>
          grants
            .filter((g) => g !== revoked)
            .every((g) => dmsMatching(stack, g.user, /expired|ended/i).length > 0),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
    await expect
      .poll(() => WAITERS.every((u) => dmsMatching(stack, u, /expired/i).length > 0), { timeout: 10_000 })
      .toBe(true);
    // Every grant and request here has ended: nothing, delayed or due, is left to run.
    await queueSettled(bot.deps.scheduler.queue);
    await bot.bot.idle();

    // Every DM once.
    for (const g of grants)
      expect(dmsMatching(stack, g.user, /expired|ended|revoked/i), g.user).toHaveLength(1);
    for (const u of WAITERS) expect(dmsMatching(stack, u, /expired/i), u).toHaveLength(1);
    for (const g of grants) expect(dmsMatching(stack, g.user, /_jitgate\/redeem/), g.user).toHaveLength(1);

    // Every approval message: posted once, and its final update (expired, revoked, timed out) sent once.
    for (const id of [...grants.map((g) => g.requestId), ...waiting]) {
      const ref = (await stack.store.queries.getRequest(id))!.message!;
      expect(stack.standin.callsTo('chat.postMessage').filter((c) => c.response.ts === ref.ts)).toHaveLength(
        1,
      );
      const finals = stack.standin
        .callsTo('chat.update')
        .filter((c) => c.body.ts === ref.ts && /Expired|Revoked/i.test(JSON.stringify(c.body)));
      expect(finals, id).toHaveLength(1);
    }

    // Every audit event once: one expiry per grant that expired, one first use per grant.
    const events = await auditEvents();
    for (const g of grants) {
      const gid = (await stack.store.queries.getRequest(g.requestId))!.grantId;
      const of = (type: string) => events.filter((e) => e.type === type && e.grantId === gid);
      expect(of('grant.issued')).toHaveLength(1);
      expect(of('grant.redeemed')).toHaveLength(1);
      expect(of('access.allowed').filter((e) => e.firstUse === true || e.firstUse === 1)).toHaveLength(1);
      expect(of(g === revoked ? 'grant.revoked' : 'grant.expired')).toHaveLength(1);
      expect(of(g === revoked ? 'grant.expired' : 'grant.revoked')).toHaveLength(0);
    }
    for (const id of waiting) {
      expect(events.filter((e) => e.type === 'request.expired' && e.requestId === id)).toHaveLength(1);
    }
  });
});
