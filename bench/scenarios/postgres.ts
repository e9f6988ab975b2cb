import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { pino } from 'pino';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import { newRequestId, type SlackUserId } from '../../shared/ids.js';
import { createLogger } from '../../shared/log.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { signAccessToken } from '../../shared/tokens/index.js';
import { startSystem } from '../../system/start.js';
import type { BenchContext } from '../context.js';
import { BENCH_ISSUER } from '../policy.js';

/** One pgbench run: transactions per second and the average latency it reported. */
interface PgbenchRun {
  tps: number;
  latencyMs: number;
}

export interface PostgresResult {
  clients: number;
  runSec: number;
  /** pgbench -S (select-only, simple protocol), each round direct then through the gateway. */
  direct: PgbenchRun[];
  gateway: PgbenchRun[];
  /** Median of the per-round ratios gateway/direct. */
  tpsRatio: number;
  /** The gateway process's CPU per relayed transaction (statement logged included), µs. */
  gatewayCpuUsPerTx: number;
  /** Connect, `SELECT 1`, disconnect, one after another (median over `samples`), ms. */
  connect: { samples: number; directMs: number; gatewayMs: number; gatewayCpuMs: number };
  /** pgbench -S -C: a new connection for every transaction. */
  connectEach: { direct: PgbenchRun; gateway: PgbenchRun };
}

const DB = 'jitgate_bench';
const LOGIN = 'jitgate_bench_ro';
const RESOURCE = 'bench-db';
const PG = { host: '127.0.0.1', port: 5432 };

/**
 * PostgreSQL through the gateway against PostgreSQL straight: pgbench select-only from the same
 * machine, in interleaved rounds, and the cost of setting a connection up (token check, grant
 * read, upstream login). Needs the machine's PostgreSQL (trust for the postgres user) and pgbench;
 * skipped with a message otherwise. The gateway runs in this process (pgbench is another), with its
 * statement log written as in production, to /dev/null.
 */
export async function postgresCost(ctx: BenchContext): Promise<PostgresResult | undefined> {
  try {
    await prepare();
  } catch (err) {
    ctx.log(`postgres: skipped (${(err as Error).message})`);
    return undefined;
  }
  const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 1h, maxDuration: 8h }
resources:
  ${RESOURCE}:
    kind: postgres
    upstream: postgres://${PG.host}:${PG.port}/${DB}
    approvers: { users: [U0BOSS] }
    roles:
      readonly: { dbUser: ${LOGIN}, readOnly: true }
`);
  const system = await startSystem({
    roles: ['authorizer'],
    overrides: {
      redis: ctx.redis,
      prefix: ctx.prefix,
      policy,
      signingKeys: ctx.keys,
      publicUrl: BENCH_ISSUER,
      // As in production (pino's own synchronous writer on a file descriptor), into /dev/null.
      log: createLogger(
        'bench-pg',
        process.env.BENCH_PG_LOG ?? 'info',
        pino.destination({ dest: '/dev/null', sync: true }),
      ),
      authorizerPort: 0,
      authorizerHost: '127.0.0.1',
      postgres: { port: 0, host: '127.0.0.1' },
    },
  });
  try {
    const gw = system.authorizer!.postgres!;
    const token = await grantToken(ctx);
    const clients = Number(process.env.BENCH_PG_CLIENTS ?? (ctx.quick ? 4 : 8));
    const runSec = ctx.quick ? 3 : Math.max(5, ctx.timing.runSec * 2);
    const rounds = ctx.quick ? 1 : ctx.timing.rounds;
    const direct = { host: PG.host, port: PG.port, db: DB, user: LOGIN, password: '' };
    const through = { host: gw.host, port: gw.port, db: RESOURCE, user: 'bench', password: token };
    // Warm-up: the gateway's code paths and PostgreSQL's buffers.
    await pgbench(through, ['-S', '-c', String(clients), '-j', '2', '-T', '1']);
    const runs: { direct: PgbenchRun; gateway: PgbenchRun; cpuUs: number }[] = [];
    for (let i = 0; i < rounds; i++) {
      const d = await pgbench(direct, ['-S', '-c', String(clients), '-j', '2', '-T', String(runSec)]);
      const cpu0 = process.cpuUsage();
      const g = await pgbench(through, ['-S', '-c', String(clients), '-j', '2', '-T', String(runSec)]);
      const cpu = process.cpuUsage(cpu0);
      runs.push({ direct: d, gateway: g, cpuUs: (cpu.user + cpu.system) / (g.tps * runSec) });
      ctx.log(
        `postgres round ${i + 1}/${rounds}: direct ${d.tps.toFixed(0)} tps, gateway ${g.tps.toFixed(0)} tps (${(g.tps / d.tps).toFixed(2)}×)`,
      );
    }
    const connect = await connectCost(direct, through, ctx.quick ? 50 : 200);
    const each = Math.max(2, Math.round(runSec / 2));
    const connectEach = {
      direct: await pgbench(direct, ['-S', '-C', '-c', '2', '-j', '2', '-T', String(each)]),
      gateway: await pgbench(through, ['-S', '-C', '-c', '2', '-j', '2', '-T', String(each)]),
    };
    const result: PostgresResult = {
      clients,
      runSec,
      direct: runs.map((r) => r.direct),
      gateway: runs.map((r) => r.gateway),
      tpsRatio: median(runs.map((r) => r.gateway.tps / r.direct.tps)),
      gatewayCpuUsPerTx: median(runs.map((r) => r.cpuUs)),
      connect,
      connectEach,
    };
    ctx.log(
      `postgres: gateway/direct ${result.tpsRatio.toFixed(2)}×, ${result.gatewayCpuUsPerTx.toFixed(0)} µs gateway CPU per transaction; connect ${connect.directMs.toFixed(2)} ms direct, ${connect.gatewayMs.toFixed(2)} ms through the gateway`,
    );
    return result;
  } finally {
    await system.stop();
  }
}

async function prepare(): Promise<void> {
  const as = async (database: string, sql: string) => {
    const c = new pg.Client({ ...PG, user: 'postgres', database, connectionTimeoutMillis: 2_000 });
    c.on('error', () => {});
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await as(
    'postgres',
    `DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${LOGIN}') THEN CREATE ROLE ${LOGIN} LOGIN; END IF;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;`,
  );
  let fresh = false;
  await as('postgres', `CREATE DATABASE ${DB}`).then(
    () => {
      fresh = true;
    },
    (err: { code?: string }) => {
      if (err.code !== '42P04') throw err;
    },
  );
  if (fresh) await pgbench({ ...PG, db: DB, user: 'postgres', password: '' }, ['-i', '-s', '1', '-q']);
  await as(
    DB,
    `GRANT CONNECT ON DATABASE ${DB} TO ${LOGIN}; GRANT USAGE ON SCHEMA public TO ${LOGIN}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${LOGIN};`,
  );
}

async function grantToken(ctx: BenchContext): Promise<string> {
  const store = new AccessStore(ctx.redis, { prefix: ctx.prefix, clock: systemClock });
  const user = 'U0BENCHPG' as SlackUserId;
  const id = newRequestId();
  await store.transitions.createRequest({
    id,
    kind: 'access',
    requester: user,
    email: 'bench.pg@example.com',
    resource: RESOURCE,
    role: 'readonly',
    durationMs: 3_600_000,
    reason: 'bench',
    breakGlass: false,
    approvalsRequired: 1,
    selfApproval: false,
    pendingTimeoutMs: 60_000,
  });
  const { decision } = await store.transitions.approve(id, 'U0BOSS' as SlackUserId);
  if (decision.outcome !== 'granted') throw new Error('the bench grant was not granted');
  return signAccessToken(
    ctx.keys,
    {
      issuer: BENCH_ISSUER,
      grantId: decision.grantId,
      user,
      email: 'bench.pg@example.com',
      resource: RESOURCE,
      role: 'readonly',
      expiresAt: decision.expiresAt,
    },
    systemClock,
  );
}

interface Target {
  host: string;
  port: number;
  db: string;
  user: string;
  password: string;
}

function pgbench(t: Target, args: string[]): Promise<PgbenchRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', ['-n', '-h', t.host, '-p', String(t.port), '-U', t.user, ...args, t.db], {
      env: { ...process.env, PGPASSWORD: t.password },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (err) => reject(new Error(`pgbench: ${err.message}`)));
    child.on('close', (code) => {
      if (code !== 0)
        return reject(new Error(`pgbench exited ${code}: ${out.trim().split('\n').slice(-3).join(' ')}`));
      resolve({
        tps: Number(/tps = ([\d.]+)/.exec(out)?.[1] ?? 0),
        latencyMs: Number(/latency average = ([\d.]+) ms/.exec(out)?.[1] ?? 0),
      });
    });
  });
}

/** Sequential connect + SELECT 1 + end, alternating direct and gateway; medians. */
async function connectCost(
  direct: Target,
  through: Target,
  samples: number,
): Promise<PostgresResult['connect']> {
  const d: number[] = [];
  const g: number[] = [];
  const cpu: number[] = [];
  const once = async (t: Target) => {
    const c = new pg.Client({
      host: t.host,
      port: t.port,
      database: t.db,
      user: t.user,
      password: t.password,
    });
    const t0 = performance.now();
    await c.connect();
    await c.query('SELECT 1');
    await c.end();
    return performance.now() - t0;
  };
  for (let i = 0; i < 10; i++) await once(through);
  // The client runs in this process too: its own CPU (measured on the direct connections) is taken off.
  const clientCpu: number[] = [];
  const cpuOf = async (t: Target, into: number[], times: number[]) => {
    const c0 = process.cpuUsage();
    times.push(await once(t));
    const c = process.cpuUsage(c0);
    into.push((c.user + c.system) / 1000);
  };
  for (let i = 0; i < samples; i++) {
    await cpuOf(direct, clientCpu, d);
    await cpuOf(through, cpu, g);
  }
  return {
    samples,
    directMs: median(d),
    gatewayMs: median(g),
    gatewayCpuMs: Math.max(0, median(cpu) - median(clientCpu)),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
