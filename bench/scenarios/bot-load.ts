import { randomBytes } from 'node:crypto';
import type { BenchContext } from '../context.js';
import { median, percentile } from '../context.js';
import { cpuSnapshot, foreignCores } from '../cpu.js';
import { deletePrefix } from '../redis-stats.js';
import { type RpcChild, spawnRpcChild } from '../servers/rpc.js';
import {
  type BotInfo,
  type LatencySummary,
  type SlackClient,
  type StandinInfo,
  settle,
  slackClient,
  summary,
} from './slack.js';

/** The numbers of people acting at once (BENCH_BOT_USERS=200 for one level). */
const LEVELS = (process.env.BENCH_BOT_USERS ?? '50,100,200').split(',').map(Number);

interface Acks {
  acks: number[];
  readAfterMs: number[];
  cpuToLastAckMs: number;
}

export interface BotLoadLevel {
  users: number;
  /** Client side: from sending the signed request to the end of the answer (what Slack sees). */
  commandAck: LatencySummary;
  approveAck: LatencySummary;
  /** Bot server side: arrival to the end of the answer. */
  commandAckServer: LatencySummary;
  approveAckServer: LatencySummary;
  /** The same bursts to a server that answers at once: the client's own share. */
  clientFloor: LatencySummary;
  /** The bot's event-loop delay during the bursts (worst round). */
  botLoopDelay: { p99Ms: number; maxMs: number };
  /** How long after a burst's first request the bot read its last one (worst round). */
  lastReadMs: { command: number; approve: number };
  /**
   * The bot's own CPU time from a burst's first request to its last ack (median of rounds): the
   * part of the last ack's wait that is the bot's work, whatever else runs on the host.
   */
  cpuToLastAckMs: { command: number; approve: number };
  /** The same for a burst of `/access help` (answered in the ack, nothing follows): acks alone. */
  cpuAckOnlyMs: number;
  /** Slack calls the bot made per round (all kinds), and App Home publishes among them. */
  slackCallsPerRound: number;
  homePublishesPerRound: number;
  foreignCores: number;
}

export interface BotLoadResult {
  levels: BotLoadLevel[];
}

/**
 * The bot under load: at 50, 100 and 200 people acting at once, every requester types `/access` in
 * the same instant, then every approver clicks Approve on one of the requests in the same instant.
 * The real bot with its worker (bench/servers/bot-host.ts: HTTP, real Redis, real BullMQ), the Slack
 * stand-in in another process, requests signed and sent from this one. As many approvers as
 * requesters, so that each approver's App Home lists every pending request (the work that used to
 * grow with the square of the users).
 */
export async function botLoad(ctx: BenchContext): Promise<BotLoadResult> {
  const levels: BotLoadLevel[] = [];
  for (const users of LEVELS) levels.push(await level(ctx, users));
  ctx.log(
    `bot under load: ${levels
      .map(
        (l) =>
          `${l.users} users: /access ack p99 ${l.commandAck.p99Ms.toFixed(0)} ms, Approve ${l.approveAck.p99Ms.toFixed(0)} ms`,
      )
      .join('; ')}`,
  );
  printLevels(levels);
  return { levels };
}

async function level(ctx: BenchContext, users: number): Promise<BotLoadLevel> {
  const botToken = `xoxb-bench-${randomBytes(8).toString('hex')}`;
  const prefix = `${ctx.prefix}-bot${users}`;
  const standin = await spawnRpcChild<StandinInfo>(new URL('../servers/standin-host.ts', import.meta.url), {
    env: { BENCH_BOT_TOKEN: botToken },
  });
  let bot: RpcChild<BotInfo> | undefined;
  try {
    bot = await spawnRpcChild<BotInfo>(new URL('../servers/bot-host.ts', import.meta.url), {
      env: {
        BENCH_UPSTREAM: ctx.upstream.info.url,
        BENCH_APPROVERS: String(users),
        BENCH_BOT_TOKEN: botToken,
        BENCH_PREFIX: prefix,
        SLACK_API_URL: standin.info.apiUrl,
        REDIS_URL: ctx.redisUrl,
        BENCH_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      },
      execArgv: ctx.profile ? ['--cpu-prof', `--cpu-prof-dir=bench/profiles/bot-load-${users}`] : [],
    });
    const pids = new Set([...ctx.pids, bot.pid, standin.pid]);
    return await measure(ctx, slackClient(bot, standin, ctx.upstream.info.url), users, pids);
  } finally {
    await bot?.stop();
    await standin.stop();
    await deletePrefix(ctx.redis, prefix);
  }
}

async function measure(
  ctx: BenchContext,
  slack: SlackClient,
  users: number,
  pids: Set<number>,
): Promise<BotLoadLevel> {
  const all = <T>(f: (k: number) => Promise<T>) => Promise.all(Array.from({ length: users }, (_, k) => f(k)));
  // Warm-up, unmeasured: connections opened, the JIT warmed, one request filed and approved.
  for (let i = 0; i < 2; i++) {
    await all((k) => slack.command(`U0WARM${k}`, 'help'));
    await all((k) => slack.floor(`U0WARM${k}`));
  }
  // What acks alone cost the bot: a burst of `/access help`, answered in the ack with nothing after.
  await slack.bot.call('takeAcks');
  await all((k) => slack.command(`U0WARM${k}`, 'help'));
  const helpBurst = await slack.bot.call<Acks & { burstStartUs?: number }>('takeAcks');
  const ackOnly = helpBurst.cpuToLastAckMs;
  if (ctx.profile)
    ctx.log(
      `bot load ${users}: the help burst starts at ${helpBurst.burstStartUs} µs (profile-summary --from)`,
    );
  const warm = await slack.command('U0WARMUP', 'app 1h warm-up');
  const warmId = await slack.requestId(warm.responseId);
  await slack.standin.call('waitPosted', { channel: 'C0APPROVALS', contains: warmId });
  await slack.click('U0APPR0', 'jit_approve', warmId);
  await slack.standin.call('waitDm', { user: 'U0WARMUP', contains: 'redeem?code=' });
  await settle(slack);

  const rounds = ctx.quick ? 1 : 3;
  const command: number[] = [];
  const approve: number[] = [];
  const commandServer: number[] = [];
  const approveServer: number[] = [];
  const floor: number[] = [];
  const lastRead = { command: 0, approve: 0 };
  const cpuToLastAck = { command: [] as number[], approve: [] as number[] };
  const loop = { p99Ms: 0, maxMs: 0 };
  const takeLoop = async () => {
    const d = await slack.bot.call<{ p99Ms: number; maxMs: number }>('takeLoopDelay');
    loop.p99Ms = Math.max(loop.p99Ms, d.p99Ms);
    loop.maxMs = Math.max(loop.maxMs, d.maxMs);
  };
  const counts = async () => slack.standin.call<Record<string, number>>('counts');
  const before = await counts();
  const cpuBefore = await cpuSnapshot(pids);
  for (let round = 0; round < rounds; round++) {
    floor.push(...(await all((k) => slack.floor(`U0F${round}Q${k}`))));
    await slack.bot.call('takeAcks');
    await slack.bot.call('takeLoopDelay');
    const requesters = Array.from({ length: users }, (_, k) => `U0R${round}Q${k}`);
    const filed = await all((k) => slack.command(requesters[k]!, `app 1h load round ${round} INC-${k}`));
    command.push(...filed.map((f) => f.ms));
    const commandBurst = await slack.bot.call<Acks>('takeAcks');
    commandServer.push(...commandBurst.acks);
    lastRead.command = Math.max(lastRead.command, ...commandBurst.readAfterMs);
    cpuToLastAck.command.push(commandBurst.cpuToLastAckMs);
    await takeLoop();
    const ids = await Promise.all(filed.map((f) => slack.requestId(f.responseId)));
    await Promise.all(
      ids.map((rid) => slack.standin.call('waitPosted', { channel: 'C0APPROVALS', contains: rid })),
    );
    await settle(slack);
    await slack.bot.call('takeAcks');
    await slack.bot.call('takeLoopDelay');
    const clicks = await all((k) => slack.click(`U0APPR${k}`, 'jit_approve', ids[k]!));
    approve.push(...clicks.map((c) => c.ms));
    const approveBurst = await slack.bot.call<Acks>('takeAcks');
    approveServer.push(...approveBurst.acks);
    lastRead.approve = Math.max(lastRead.approve, ...approveBurst.readAfterMs);
    cpuToLastAck.approve.push(approveBurst.cpuToLastAckMs);
    await takeLoop();
    await Promise.all(
      requesters.map((u) => slack.standin.call('waitDm', { user: u, contains: 'redeem?code=' })),
    );
    await settle(slack);
    ctx.log(
      `bot load ${users} users, round ${round + 1}: /access ack p99 ${percentile(
        filed.map((f) => f.ms),
        0.99,
      ).toFixed(0)} ms, Approve ack p99 ${percentile(
        clicks.map((c) => c.ms),
        0.99,
      ).toFixed(
        0,
      )} ms; bot CPU to the last ack ${commandBurst.cpuToLastAckMs.toFixed(0)} / ${approveBurst.cpuToLastAckMs.toFixed(0)} ms; last request read after ${Math.max(...commandBurst.readAfterMs).toFixed(0)} / ${Math.max(...approveBurst.readAfterMs).toFixed(0)} ms`,
    );
  }
  const foreign = foreignCores(cpuBefore, await cpuSnapshot(pids));
  const after = await counts();
  const calls = (c: Record<string, number>, only?: string) =>
    Object.entries(c)
      .filter(([m]) => (only ? m === only : m !== 'response_url'))
      .reduce((n, [, v]) => n + v, 0);
  return {
    users,
    commandAck: summary(command),
    approveAck: summary(approve),
    commandAckServer: summary(commandServer),
    approveAckServer: summary(approveServer),
    clientFloor: summary(floor),
    botLoopDelay: loop,
    lastReadMs: lastRead,
    cpuAckOnlyMs: ackOnly,
    cpuToLastAckMs: { command: median(cpuToLastAck.command), approve: median(cpuToLastAck.approve) },
    slackCallsPerRound: (calls(after) - calls(before)) / rounds,
    homePublishesPerRound: (calls(after, 'views.publish') - calls(before, 'views.publish')) / rounds,
    foreignCores: foreign,
  };
}

function printLevels(levels: BotLoadLevel[]): void {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const rows = levels.map((l) => ({
    users: l.users,
    '/access ack p50': ms(l.commandAck.p50Ms),
    '/access ack p99': ms(l.commandAck.p99Ms),
    'Approve ack p50': ms(l.approveAck.p50Ms),
    'Approve ack p99': ms(l.approveAck.p99Ms),
    'server p99 (/access, Approve)': `${ms(l.commandAckServer.p99Ms)}, ${ms(l.approveAckServer.p99Ms)}`,
    'client floor p99': ms(l.clientFloor.p99Ms),
    'bot CPU to last ack (/access, Approve; help)': `${ms(l.cpuToLastAckMs.command)}, ${ms(l.cpuToLastAckMs.approve)}; ${ms(l.cpuAckOnlyMs)}`,
    'loop delay max': ms(l.botLoopDelay.maxMs),
    'home publishes / round': Math.round(l.homePublishesPerRound),
    'other cores busy': l.foreignCores.toFixed(2),
  }));
  console.log('\nBot under load (ack p99 target < 100 ms at 200 users)');
  console.table(rows);
}
