/**
 * `npm run bench [-- --quick] [--only proxy,signin,verifier,scale,memory,slack,bot,postgres] [--rounds N]
 *   [--variants bare,jitgate] [--profile] [--update-doc]`
 *
 * Starts the upstream and the proxies under test in child processes, drives them with autocannon
 * from a worker thread, prints each scenario as a table, writes bench/results.json and
 * bench/chart.svg. Uses the Redis at REDIS_URL under a random key prefix, deleted at the end.
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import { connectRedis } from '../shared/redis/connect.js';
import { generateSigningKeySet, loadSigningKeys } from '../shared/tokens/index.js';
import { renderChart } from './chart.js';
import { type BenchContext, loadWith, type TargetInfo, TIMING } from './context.js';
import { machine } from './machine.js';
import { updateDoc } from './markdown.js';
import { deletePrefix, redisVersion } from './redis-stats.js';
import { printReport, type Results, summarize } from './report.js';
import { botLoad } from './scenarios/bot-load.js';
import { memoryPerGrant } from './scenarios/memory.js';
import { postgresCost } from './scenarios/postgres.js';
import { proxyCost } from './scenarios/proxy-cost.js';
import { scale } from './scenarios/scale.js';
import { signinCost } from './scenarios/signin-cost.js';
import { slackSide } from './scenarios/slack.js';
import { verifierCost } from './scenarios/verifier.js';
import { spawnRpcChild } from './servers/rpc.js';

const SCENARIOS = ['proxy', 'signin', 'verifier', 'scale', 'memory', 'slack', 'bot', 'postgres'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** `--name value` or `--name=value`. */
function option(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i === -1) return undefined;
  return argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
}

function parseArgs(argv: string[]) {
  const only = new Set((option(argv, '--only') ?? '').split(',').filter(Boolean));
  for (const s of only) {
    if (!SCENARIOS.includes(s as Scenario))
      throw new Error(`unknown scenario ${s}; choose from ${SCENARIOS.join(', ')}`);
  }
  const rounds = option(argv, '--rounds');
  return {
    quick: argv.includes('--quick'),
    profile: argv.includes('--profile'),
    updateDoc: argv.includes('--update-doc'),
    rounds: rounds ? Number(rounds) : undefined,
    variants: option(argv, '--variants')?.split(','),
    wants: (s: Scenario) => only.size === 0 || only.has(s),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const timing = {
    ...TIMING[args.quick ? 'quick' : 'full'],
    ...(args.rounds ? { rounds: args.rounds } : {}),
  };
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const log = (m: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
  // The bench's own connection may queue while connecting: nothing here must fail fast.
  const redis = connectRedis(redisUrl, { commandTimeout: 30_000, enableOfflineQueue: true });
  redis.on('error', () => {});
  const keysJson = JSON.stringify(await generateSigningKeySet());
  const keys = await loadSigningKeys(keysJson);
  const startedAt = Date.now();
  log(`${args.quick ? 'quick' : 'full'} run, prefix ${prefix}, Redis ${redisUrl}`);

  const upstream = await spawnRpcChild<{ url: string }>(new URL('./servers/upstream.ts', import.meta.url));
  const target = await spawnRpcChild<TargetInfo>(new URL('./servers/target.ts', import.meta.url), {
    env: {
      BENCH_UPSTREAM: upstream.info.url,
      BENCH_PREFIX: prefix,
      BENCH_KEYS: keysJson,
      REDIS_URL: redisUrl,
      BENCH_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    },
    execArgv: args.profile ? ['--cpu-prof', '--cpu-prof-dir=bench/profiles/target'] : [],
  });
  const pids = new Set([process.pid, upstream.pid, target.pid]);
  const redisPid = await localRedisPid(redis);
  if (redisPid) pids.add(redisPid);
  const ctx: BenchContext = {
    quick: args.quick,
    profile: args.profile,
    ...(args.variants ? { variants: args.variants } : {}),
    timing,
    redisUrl,
    redis,
    prefix,
    keys,
    keysJson,
    upstream,
    target,
    pids,
    log,
    load: loadWith(timing, pids),
  };

  const results: Results = {
    machine: { ...(await machine()), redis: await redisVersion(redis) },
    mode: args.quick ? 'quick' : 'full',
    timing,
    startedAt: new Date(startedAt).toISOString(),
  };
  // Interrupted (Ctrl-C): the children go with the parent, but the keys would stay (the audit stream
  // and the indexes have no TTL), so they are deleted before leaving.
  const interrupted = async (signal: string) => {
    log(`${signal}: cleaning up`);
    await Promise.allSettled([target.stop(), upstream.stop()]);
    const deleted = await Promise.all(
      [
        prefix,
        `${prefix}-mem`,
        `${prefix}-slack`,
        `${prefix}-bot50`,
        `${prefix}-bot100`,
        `${prefix}-bot200`,
      ].map((p) => deletePrefix(redis, p).catch(() => 0)),
    );
    log(`cleaned up ${deleted.reduce((a, b) => a + b, 0)} keys`);
    process.exit(130);
  };
  process.once('SIGINT', () => void interrupted('SIGINT'));
  process.once('SIGTERM', () => void interrupted('SIGTERM'));
  try {
    if (args.wants('proxy')) results.proxy = await proxyCost(ctx);
    if (args.wants('signin')) results.signin = await signinCost(ctx);
    if (args.wants('verifier')) results.verifier = await verifierCost(ctx);
    if (args.wants('scale')) results.scale = await scale(ctx);
    if (args.wants('memory')) results.memory = await memoryPerGrant(ctx);
    if (args.wants('slack')) results.slack = await slackSide(ctx);
    if (args.wants('bot')) (results as Results & { bot?: unknown }).bot = await botLoad(ctx);
    if (args.wants('postgres')) results.postgres = await postgresCost(ctx);
  } finally {
    await Promise.allSettled([target.stop(), upstream.stop()]);
    const deleted = await deletePrefix(redis, prefix);
    log(`cleaned up ${deleted} keys under {${prefix}}`);
    redis.disconnect();
  }
  results.durationSec = (Date.now() - startedAt) / 1000;
  results.summary = summarize(results);
  printReport(results);
  await writeFile(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  if (results.proxy || results.scale || results.slack) {
    await writeFile(new URL('./chart.svg', import.meta.url), renderChart(results));
  }
  if (args.updateDoc) await updateDoc(results);
  log(
    `done in ${results.durationSec.toFixed(0)} s: bench/results.json${results.proxy ? ', bench/chart.svg' : ''}`,
  );
}

/** Redis's pid when it runs on this machine (its CPU time is the bench's, not someone else's). */
async function localRedisPid(redis: Redis): Promise<number | undefined> {
  const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).includes('redis') ? pid : undefined;
  } catch {
    return undefined;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
