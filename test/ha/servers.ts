import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { HostPort } from '../../shared/redis/target.js';

const run = promisify(execFile);

/**
 * Highly available Redis on loopback for the slow matrix (`npm run test:ha`): a 3-master Redis
 * Cluster, and a master with a replica watched by three sentinels. Each server is a `redis-server`
 * 7 process in a temporary directory, without persistence, on ports nobody else holds.
 */
export interface Process {
  port: number;
  child: ChildProcess;
  /** SIGKILL: gone at once, like a crashed host. */
  kill(): Promise<void>;
  /** SIGSTOP: the port accepts connections but nothing answers (a hung host). */
  freeze(): void;
  thaw(): void;
  /** Starts it again, as it was started (after kill), empty: nothing is persisted. */
  restart(): Promise<void>;
}

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port that is free, and (for a cluster node) whose bus port, 10000 above, is free too. */
export async function freePort(bus = false): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await isFree(port)) && (!bus || (await isFree(port + 10_000)))) return port;
  }
  throw new Error('no free port found');
}

/** The password of each server started with one (redis-cli reads it from REDISCLI_AUTH). */
const passwords = new Map<number, string>();

export async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    env: { ...process.env, ...(passwords.has(port) ? { REDISCLI_AUTH: passwords.get(port) } : {}) },
    timeout: 10_000,
  });
  return stdout.trim();
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startServer(port: number, args: string[], dir: string): Promise<Process> {
  const password = args[args.indexOf('--requirepass') + 1];
  if (args.includes('--requirepass') && password) passwords.set(port, password);
  const launch = async () => {
    const child = spawn('redis-server', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.resume();
    await waitFor(`redis-server on ${port}`, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${child.exitCode}`);
      return (await cli(port, 'PING')) === 'PONG';
    });
    return child;
  };
  const p: Process = {
    port,
    child: await launch(),
    async kill() {
      const child = p.child;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await gone;
    },
    freeze: () => void p.child.kill('SIGSTOP'),
    thaw: () => void p.child.kill('SIGCONT'),
    async restart() {
      await p.kill();
      p.child = await launch();
    },
  };
  return p;
}

function baseArgs(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--loglevel',
    'warning',
  ];
}

export interface RedisCluster {
  nodes: HostPort[];
  /** Every server, masters and replicas, by port. */
  servers: Map<number, Process>;
  /** `host:port,…`, as REDIS_CLUSTER_NODES takes it. */
  seedList: string;
  close(): Promise<void>;
}

/**
 * `masters` masters with `replicas` replicas each, every slot assigned; ready when each node says
 * `cluster_state:ok` and every replica is in sync.
 */
export async function startRedisCluster(masters = 3, replicas = 0): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-cluster-'));
  const processes: Process[] = [];
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const port = await freePort(true);
      const args = [
        ...baseArgs(port, dir),
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '2000',
      ];
      processes.push(await startServer(port, args, dir));
    }
    const addresses = processes.map((p) => `127.0.0.1:${p.port}`);
    await run(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'],
      { timeout: 30_000 },
    );
    for (const p of processes) {
      await waitFor(`cluster state on ${p.port}`, async () =>
        (await cli(p.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
      );
    }
    // Every replica known as one to every node, and in sync with its master.
    for (const p of processes) {
      await waitFor(`replicas seen from ${p.port}`, async () => {
        const lines = (await cli(p.port, 'CLUSTER', 'NODES')).split('\n');
        return lines.filter((l) => / (myself,)?slave /.test(l)).length === masters * replicas;
      });
    }
    for (const p of processes) {
      await waitFor(`replication on ${p.port}`, async () => {
        const info = await cli(p.port, 'INFO', 'replication');
        return info.includes('role:master') || info.includes('master_link_status:up');
      });
    }
    if (replicas > 0) {
      // CLUSTER SLOTS (what clients read) lists a replica only once it has replicated something:
      // write to every master, then wait until each slot range names its replicas.
      for (let i = 0; i < 30; i++) {
        await run('redis-cli', [
          '-c',
          '-h',
          '127.0.0.1',
          '-p',
          String(processes[0]!.port),
          'SET',
          `{warm-${i}}`,
          '1',
        ]);
      }
      // Each node answers from what it has heard of the others: ask every one.
      for (const p of processes) {
        await waitFor(`replicas in CLUSTER SLOTS on ${p.port}`, async () => {
          const { stdout } = await run('redis-cli', ['--json', '-p', String(p.port), 'CLUSTER', 'SLOTS']);
          const ranges = JSON.parse(stdout) as unknown[][];
          return ranges.length === masters && ranges.every((r) => r.length === 3 + replicas);
        });
      }
    }
  } catch (err) {
    await Promise.all(processes.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const nodes = processes.map((p) => ({ host: '127.0.0.1', port: p.port }));
  return {
    nodes,
    servers: new Map(processes.map((p) => [p.port, p])),
    seedList: nodes.map((n) => `${n.host}:${n.port}`).join(','),
    async close() {
      await Promise.all(processes.map((p) => p.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SentinelSet {
  master: Process;
  replica: Process;
  sentinels: Process[];
  /** The name the sentinels know the master by (REDIS_SENTINEL_MASTER). */
  name: string;
  /** `host:port,…`, as REDIS_SENTINELS takes it. */
  sentinelList: string;
  /** The port of the server the sentinels currently name as master. */
  currentMaster(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A master, one replica and three sentinels (quorum 2) with short timings: a master that stops
 * answering is judged down after `downAfterMs` and its replica promoted.
 */
export async function startSentinelSet(
  options: { downAfterMs?: number; failoverTimeoutMs?: number; password?: string } = {},
): Promise<SentinelSet> {
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-sentinel-'));
  const name = 'jitgate-ha';
  const processes: Process[] = [];
  const { password } = options;
  // The data servers require the password (and replicas use it towards their master); the sentinels do not.
  const auth = password ? ['--requirepass', password, '--masterauth', password] : [];
  try {
    const masterPort = await freePort();
    const master = await startServer(masterPort, [...baseArgs(masterPort, dir), ...auth], dir);
    processes.push(master);
    const replicaPort = await freePort();
    const replica = await startServer(
      replicaPort,
      [...baseArgs(replicaPort, dir), ...auth, '--replicaof', '127.0.0.1', String(masterPort)],
      dir,
    );
    processes.push(replica);
    await waitFor('replica in sync', async () =>
      (await cli(replicaPort, 'INFO', 'replication')).includes('master_link_status:up'),
    );
    const sentinels: Process[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1_000}`,
          `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 3_000}`,
          `sentinel parallel-syncs ${name} 1`,
          ...(password ? [`sentinel auth-pass ${name} ${password}`] : []),
          '',
        ].join('\n'),
      );
      const s = await startServer(port, [conf, '--sentinel', '--loglevel', 'warning'], dir);
      sentinels.push(s);
      processes.push(s);
    }
    // Every sentinel has found the replica and the other sentinels before the test starts.
    for (const s of sentinels) {
      await waitFor(`sentinel ${s.port} sees the set`, async () => {
        const info = await cli(s.port, 'SENTINEL', 'MASTER', name);
        const field = (f: string) => {
          const lines = info.split('\n');
          return lines[lines.indexOf(f) + 1];
        };
        return field('num-slaves') === '1' && field('num-other-sentinels') === '2';
      });
    }
    const set: SentinelSet = {
      master,
      replica,
      sentinels,
      name,
      sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      async currentMaster() {
        const reply = await cli(sentinels[0]!.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name);
        return Number(reply.split('\n')[1]);
      },
      async close() {
        await Promise.all(processes.map((p) => p.kill()));
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return set;
  } catch (err) {
    await Promise.all(processes.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
