import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestIdIn } from '../../dev/slack/reply-ids.js';
import { blockActionsBody, signSlackRequest, slashCommandBody } from '../../dev/slack/requests.js';
import type { BenchContext } from '../context.js';
import { percentile } from '../context.js';
import { cpuSnapshot, foreignCores } from '../cpu.js';
import { deletePrefix } from '../redis-stats.js';
import { type RpcChild, spawnRpcChild } from '../servers/rpc.js';

const USERS = 50;
const approverId = (i: number) => `U0APPR${i % USERS}`;

interface Acks {
  acks: number[];
  burstStartUs?: number;
  readAfterMs: number[];
}
export interface BotInfo {
  botUrl: string;
  secret: string;
  authorizerUrl: string;
}
export interface StandinInfo {
  apiUrl: string;
  baseUrl: string;
}
interface Seen {
  at: number;
  text: string;
}

export interface LatencySummary {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface SlackResult {
  users: number;
  /** Client-side: from sending the signed request to the end of the answer. */
  commandAck: LatencySummary;
  approveAck: LatencySummary;
  /** Server-side, from the bot's HTTP server: arrival to the end of the answer. */
  commandAckServer: LatencySummary;
  approveAckServer: LatencySummary;
  /** The client's own floor: the same 50 concurrent signed POSTs to a server that answers at once. */
  clientFloor: LatencySummary;
  /** The bot's event-loop delay during the ack phases (worst round). */
  botLoopDelay: { p99Ms: number; maxMs: number };
  /** How long after a burst's first request the bot read its last one (worst round). */
  lastReadMs: { command: number; approve: number };
  /** When each burst reached the bot (µs, the clock of V8 CPU profiles: `profile-summary --from`). */
  bursts: { round: number; command?: number; approve?: number }[];
  /** Cores other processes kept busy while this scenario ran. */
  foreignCores: number;
  approveToUsable: {
    samples: number[];
    p50Ms: number;
    maxMs: number;
    /** Medians of the parts: click → redeem DM at Slack, redeem, first proxied request. */
    parts: { clickToDmMs: number; redeemMs: number; firstRequestMs: number };
  };
  revoke: {
    trials: number;
    clickToRefusedP50Ms: number;
    clickToRefusedMaxMs: number;
    /** Requests sent after the revocation was committed in Redis that were still allowed (want 0). */
    allowedAfterCommit: number;
    /** Trials in which the first request after the revocation was committed was refused. */
    nextRequestRefused: number;
  };
  expiry: {
    grantMs: number;
    /** First refusal (response) minus the token's `exp`. */
    refusedAfterExpMs: number;
    /** First refusal minus the grant's expiry in ms (`exp` is that, rounded down to the second). */
    refusedAfterExpiryMs: number;
    /** The last allowed request was sent this long before the expiry (want ≥ 0). */
    lastAllowedBeforeExpiryMs: number;
    /** The approval message's final chat.update ("Expired at") minus the grant's expiry. */
    finalMessageAfterExpiryMs: number;
  };
}

/** Milliseconds since the epoch with sub-millisecond resolution, comparable with the bot's Date.now(). */
const now = () => performance.timeOrigin + performance.now();

/**
 * Scenario 4: the bot, acknowledged and end to end. Slack requests are signed and sent from this
 * process; the bot with its worker and an authorizer run in one child (bot-host.ts), the Slack
 * stand-in in another (standin-host.ts).
 */
export async function slackSide(ctx: BenchContext): Promise<SlackResult> {
  const botToken = `xoxb-bench-${randomBytes(8).toString('hex')}`;
  const prefix = `${ctx.prefix}-slack`;
  const profile = (name: string) =>
    ctx.profile ? ['--cpu-prof', `--cpu-prof-dir=bench/profiles/${name}`] : [];
  const standin = await spawnRpcChild<StandinInfo>(new URL('../servers/standin-host.ts', import.meta.url), {
    env: { BENCH_BOT_TOKEN: botToken },
  });
  let bot: RpcChild<BotInfo> | undefined;
  try {
    bot = await spawnRpcChild<BotInfo>(new URL('../servers/bot-host.ts', import.meta.url), {
      env: {
        BENCH_UPSTREAM: ctx.upstream.info.url,
        BENCH_APPROVERS: String(USERS),
        BENCH_BOT_TOKEN: botToken,
        BENCH_PREFIX: prefix,
        SLACK_API_URL: standin.info.apiUrl,
        REDIS_URL: ctx.redisUrl,
      },
      execArgv: profile('bot-host'),
    });
    ctx.pids.add(bot.pid);
    ctx.pids.add(standin.pid);
    return await measure(ctx, slackClient(bot, standin, ctx.upstream.info.url));
  } finally {
    await bot?.stop();
    await standin.stop();
    await deletePrefix(ctx.redis, prefix);
  }
}

async function measure(ctx: BenchContext, slack: SlackClient): Promise<SlackResult> {
  // Warm-up, unmeasured: one full cycle (JIT, the worker's first job), then a burst of `/access help`
  // (answered in the ack, nothing stored) that opens the 50 connections and warms the client.
  await usableTrial(slack, 'U0WARM', 0);
  for (let i = 0; i < 3; i++) {
    await Promise.all(Array.from({ length: USERS }, (_, k) => slack.command(`U0WARM${k}`, 'help')));
    await Promise.all(Array.from({ length: USERS }, (_, k) => slack.floor(`U0WARM${k}`)));
  }

  const rounds = ctx.quick ? 1 : 4;
  const commandAcks: number[] = [];
  const approveAcks: number[] = [];
  const commandAcksServer: number[] = [];
  const approveAcksServer: number[] = [];
  const floor: number[] = [];
  const bursts: SlackResult['bursts'] = [];
  const lastRead = { command: [] as number[], approve: [] as number[] };
  const loop = { p99Ms: 0, maxMs: 0 };
  const takeLoop = async () => {
    const d = await slack.bot.call<{ p99Ms: number; maxMs: number }>('takeLoopDelay');
    loop.p99Ms = Math.max(loop.p99Ms, d.p99Ms);
    loop.maxMs = Math.max(loop.maxMs, d.maxMs);
  };
  const cpuBefore = await cpuSnapshot(ctx.pids);
  for (let round = 0; round < rounds; round++) {
    floor.push(
      ...(await Promise.all(Array.from({ length: USERS }, (_, k) => slack.floor(`U0F${round}Q${k}`)))),
    );
    await slack.bot.call('takeAcks');
    await slack.bot.call('takeLoopDelay');
    const requesters = Array.from({ length: USERS }, (_, k) => `U0R${round}Q${k}`);
    const filed = await Promise.all(
      requesters.map((u, k) => slack.command(u, `app 1h load round ${round} INC-${k}`)),
    );
    commandAcks.push(...filed.map((f) => f.ms));
    const commandBurst = await slack.bot.call<Acks>('takeAcks');
    commandAcksServer.push(...commandBurst.acks);
    await takeLoop();
    const ids = await Promise.all(filed.map((f) => slack.requestId(f.responseId)));
    await Promise.all(
      ids.map((rid) => slack.standin.call('waitPosted', { channel: 'C0APPROVALS', contains: rid })),
    );
    // Each burst meets an idle bot: the work after the previous burst's acks (App Homes) is done.
    await settle(slack);
    await slack.bot.call('takeAcks');
    const clicks = await Promise.all(ids.map((rid, k) => slack.click(approverId(k), 'jit_approve', rid)));
    approveAcks.push(...clicks.map((c) => c.ms));
    const approveBurst = await slack.bot.call<Acks>('takeAcks');
    approveAcksServer.push(...approveBurst.acks);
    bursts.push({ round, command: commandBurst.burstStartUs, approve: approveBurst.burstStartUs });
    lastRead.command.push(Math.max(...commandBurst.readAfterMs));
    lastRead.approve.push(Math.max(...approveBurst.readAfterMs));
    await takeLoop();
    // Let the round's work after the acks (mint, message updates, DMs) finish before the next one.
    await Promise.all(
      requesters.map((u) => slack.standin.call('waitDm', { user: u, contains: 'redeem?code=' })),
    );
    await settle(slack);
    ctx.log(
      `slack round ${round + 1}: last request read after ${Math.max(...commandBurst.readAfterMs).toFixed(0)} / ${Math.max(...approveBurst.readAfterMs).toFixed(0)} ms; /access ack p99 ${percentile(
        filed.map((f) => f.ms),
        0.99,
      ).toFixed(
        1,
      )} ms (server ${percentile(commandAcksServer.slice(-USERS), 0.99).toFixed(1)} ms), approve ack p99 ${percentile(
        clicks.map((c) => c.ms),
        0.99,
      ).toFixed(1)} ms (server ${percentile(approveAcksServer.slice(-USERS), 0.99).toFixed(1)} ms)`,
    );
  }

  const foreign = foreignCores(cpuBefore, await cpuSnapshot(ctx.pids));
  const trials = ctx.quick ? 3 : 10;
  const usable: UsableTrial[] = [];
  for (let i = 0; i < trials; i++) usable.push(await usableTrial(slack, `U0USE${i}`, i));
  ctx.log(`approve → usable: ${usable.map((u) => u.totalMs.toFixed(0)).join(', ')} ms`);

  const revokes: RevokeTrial[] = [];
  for (const u of usable.slice(0, ctx.quick ? 2 : 5)) revokes.push(await revokeTrial(slack, u));
  ctx.log(`revoke → refused: ${revokes.map((r) => r.clickToRefusedMs.toFixed(0)).join(', ')} ms`);

  const expiry = await expiryTrial(slack, ctx.quick ? 2 : 3);
  ctx.log(`expiry: ${JSON.stringify(expiry)}`);

  const median = (xs: number[]) => percentile(xs, 0.5);
  return {
    users: USERS,
    commandAck: summary(commandAcks),
    approveAck: summary(approveAcks),
    commandAckServer: summary(commandAcksServer),
    approveAckServer: summary(approveAcksServer),
    clientFloor: summary(floor),
    botLoopDelay: loop,
    bursts,
    lastReadMs: { command: Math.max(...lastRead.command), approve: Math.max(...lastRead.approve) },
    foreignCores: foreign,
    approveToUsable: {
      samples: usable.map((u) => u.totalMs),
      p50Ms: median(usable.map((u) => u.totalMs)),
      maxMs: Math.max(...usable.map((u) => u.totalMs)),
      parts: {
        clickToDmMs: median(usable.map((u) => u.clickToDmMs)),
        redeemMs: median(usable.map((u) => u.redeemMs)),
        firstRequestMs: median(usable.map((u) => u.firstRequestMs)),
      },
    },
    revoke: {
      trials: revokes.length,
      clickToRefusedP50Ms: median(revokes.map((r) => r.clickToRefusedMs)),
      clickToRefusedMaxMs: Math.max(...revokes.map((r) => r.clickToRefusedMs)),
      allowedAfterCommit: revokes.reduce((n, r) => n + r.allowedAfterCommit, 0),
      nextRequestRefused: revokes.filter((r) => r.nextRequestRefused).length,
    },
    expiry,
  };
}

export function summary(ms: number[]): LatencySummary {
  return {
    samples: ms.length,
    p50Ms: percentile(ms, 0.5),
    p99Ms: percentile(ms, 0.99),
    maxMs: Math.max(...ms),
  };
}

export type SlackClient = ReturnType<typeof slackClient>;

/** Waits until the bot has made no Slack call for 300 ms (its work after the acks is done). */
export async function settle(slack: SlackClient): Promise<void> {
  let last = '';
  let stableSince = performance.now();
  const until = performance.now() + 15_000;
  while (performance.now() < until) {
    await sleep(100);
    const counts = JSON.stringify(await slack.standin.call('counts'));
    if (counts !== last) {
      last = counts;
      stableSince = performance.now();
    } else if (performance.now() - stableSince >= 300) return;
  }
}

/**
 * Slack's side of the wire: a signed POST on a kept-alive connection (Slack reuses its connections
 * too). node:http rather than fetch: the client's own cost is part of what is measured, so it is
 * kept small; `clientFloor` shows what is left of it.
 */
// Idle connections are closed after 4 s, before the bot's server closes them (Node's keep-alive
// timeout, 5 s): a request sent on a connection the server is closing fails with "socket hang up".
const slackAgent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 4_000 });
function post(url: string, body: string, secret: string): Promise<number> {
  const headers = { ...signSlackRequest(secret, body), 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent: slackAgent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Signed Slack requests to the bot, timed from send to the end of the ack. */
export function slackClient(bot: RpcChild<BotInfo>, standin: RpcChild<StandinInfo>, upstreamUrl: string) {
  const { botUrl, secret, authorizerUrl } = bot.info;
  const standinUrl = standin.info.baseUrl;
  return {
    bot,
    standin,
    authorizerUrl,
    async command(user: string, text: string) {
      const responseId = `bench-${randomBytes(6).toString('hex')}`;
      const body = slashCommandBody({
        userId: user,
        text,
        responseUrl: `${standinUrl}/respond/${responseId}`,
      });
      const t0 = performance.now();
      const status = await post(`${botUrl}/slack/events`, body, secret);
      if (status !== 200) throw new Error(`/access ${text} answered ${status}`);
      return { ms: performance.now() - t0, responseId };
    },
    /** A signed /access POST to the upstream, which answers at once: what the client itself costs. */
    async floor(user: string) {
      const body = slashCommandBody({
        userId: user,
        text: 'app 1h floor',
        responseUrl: `${standinUrl}/respond/floor`,
      });
      const t0 = performance.now();
      await post(`${upstreamUrl}/slack/events`, body, secret);
      return performance.now() - t0;
    },
    async click(user: string, actionId: string, value: string) {
      const body = blockActionsBody({ userId: user, actionId, value, messageTs: '1700000000.000100' });
      const t0 = performance.now();
      const status = await post(`${botUrl}/slack/events`, body, secret);
      if (status !== 200) throw new Error(`${actionId} answered ${status}`);
      return { ms: performance.now() - t0 };
    },
    async requestId(responseId: string): Promise<string> {
      const reply = await standin.call<Seen>('waitResponse', { id: responseId });
      return requestIdIn(reply.text);
    },
    /** One proxied GET with a bearer token: its status, when it was sent and answered. */
    async get(token: string) {
      const sentAt = now();
      const res = await fetch(`${authorizerUrl}/app/`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      return { status: res.status, sentAt, doneAt: now() };
    },
  };
}

interface UsableTrial {
  user: string;
  requestId: string;
  token: string;
  totalMs: number;
  clickToDmMs: number;
  redeemMs: number;
  firstRequestMs: number;
}

/** File a request, then time: Approve click → redeem DM → redeem (JSON) → first 200 through the authorizer. */
async function usableTrial(
  slack: SlackClient,
  user: string,
  i: number,
  duration = '1h',
): Promise<UsableTrial> {
  const filed = await slack.command(user, `app ${duration} usable trial ${i}`);
  const requestId = await slack.requestId(filed.responseId);
  await slack.standin.call('waitPosted', { channel: 'C0APPROVALS', contains: requestId });
  const t0 = performance.now();
  await slack.click(approverId(i), 'jit_approve', requestId);
  const dm = await slack.standin.call<Seen>('waitDm', { user, contains: 'redeem?code=' });
  const t1 = performance.now();
  const code = /redeem\?code=([A-Za-z0-9_-]+)/.exec(dm.text)?.[1];
  if (!code) throw new Error(`no redeem code in the DM to ${user}`);
  const redeemed = await fetch(`${slack.authorizerUrl}/_jitgate/redeem?code=${code}`, {
    headers: { accept: 'application/json' },
  });
  const { token } = (await redeemed.json()) as { token: string };
  const t2 = performance.now();
  const first = await slack.get(token);
  const t3 = performance.now();
  if (first.status !== 200) throw new Error(`the first request with a fresh token answered ${first.status}`);
  return {
    user,
    requestId,
    token,
    totalMs: t3 - t0,
    clickToDmMs: t1 - t0,
    redeemMs: t2 - t1,
    firstRequestMs: t3 - t2,
  };
}

interface RevokeTrial {
  clickToRefusedMs: number;
  allowedAfterCommit: number;
  nextRequestRefused: boolean;
}

/** Requests back to back on a usable grant while its holder clicks Revoke. */
async function revokeTrial(slack: SlackClient, u: UsableTrial): Promise<RevokeTrial> {
  const { grantId } = await slack.bot.call<{ grantId: string }>('request', { requestId: u.requestId });
  const seen: { status: number; sentAt: number; doneAt: number }[] = [];
  let clickedAt = 0;
  const hammer = (async () => {
    const until = now() + 5_000;
    while (now() < until) {
      const r = await slack.get(u.token);
      seen.push(r);
      if (r.status !== 200 && seen.filter((s) => s.status !== 200).length >= 3) return;
    }
  })();
  await sleep(30);
  clickedAt = now();
  await slack.click(u.user, 'jit_revoke', grantId);
  await hammer;
  const { endedAt } = await slack.bot.call<{ endedAt?: number }>('request', { requestId: u.requestId });
  if (endedAt === undefined) throw new Error(`grant ${grantId} was not revoked`);
  const firstRefused = seen.find((s) => s.status !== 200);
  if (!firstRefused) throw new Error(`grant ${grantId}: no refusal within 5 s of the revoke`);
  // endedAt is the script's clock reading, taken just before the script ran: allow 2 ms for it to run.
  const committed = endedAt + 2;
  const after = seen.filter((s) => s.sentAt > committed);
  return {
    clickToRefusedMs: firstRefused.doneAt - clickedAt,
    allowedAfterCommit: after.filter((s) => s.status === 200).length,
    nextRequestRefused: after.length > 0 && after[0]!.status === 401,
  };
}

/** A grant of a few seconds: when is it first refused, and when does Slack show it ended? */
async function expiryTrial(slack: SlackClient, seconds: number): Promise<SlackResult['expiry']> {
  const u = await usableTrial(slack, 'U0EXPIRY', 0, `${seconds}s`);
  const { expiresAt } = await slack.bot.call<{ expiresAt: number }>('request', { requestId: u.requestId });
  const exp = (JSON.parse(Buffer.from(u.token.split('.')[1]!, 'base64url').toString()) as { exp: number })
    .exp;
  let lastAllowed = 0;
  let refusedAt = 0;
  while (now() < expiresAt + 5_000) {
    const r = await slack.get(u.token);
    if (r.status === 200) lastAllowed = r.sentAt;
    else {
      refusedAt = r.doneAt;
      break;
    }
    await sleep(5);
  }
  if (refusedAt === 0) throw new Error('the expired grant was still allowed 5 s after its expiry');
  const { message } = await slack.bot.call<{ message: { channel: string; ts: string } }>('request', {
    requestId: u.requestId,
  });
  const final = await slack.standin.call<Seen>('waitUpdate', { ...message, contains: 'Expired at' });
  return {
    grantMs: seconds * 1000,
    refusedAfterExpMs: refusedAt - exp * 1000,
    refusedAfterExpiryMs: refusedAt - expiresAt,
    lastAllowedBeforeExpiryMs: expiresAt - lastAllowed,
    finalMessageAfterExpiryMs: final.at - expiresAt,
  };
}
