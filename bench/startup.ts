/**
 * `npx tsx bench/startup.ts [--rounds N]`: how long the authorizer takes from spawn to a 200 on
 * /_jitgate/readyz, and how much memory its whole process tree holds then (the sum of VmRSS of the
 * spawned process and every descendant, from /proc), started each way a person starts it:
 *
 *   npm run dev:authorizer     npm → sh → tsx → node (TypeScript compiled on the fly)
 *   npm run start:authorizer   npm → (pre-script: is dist/ current?) → sh → node dist/…
 *   node dist/authorizer/main.js   what the image and Kubernetes run
 *
 * Run `npm run build` first. Rounds are interleaved; the medians are printed. Linux only (/proc).
 * Uses Redis at REDIS_URL under a random key prefix (the authorizer writes nothing at start).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeySet } from '../shared/tokens/index.js';

const VARIANTS: Record<string, [string, string[]]> = {
  'npm run dev:authorizer (tsx)': ['npm', ['run', '-s', 'dev:authorizer']],
  'npm run start:authorizer (node dist)': ['npm', ['run', '-s', 'start:authorizer']],
  'node dist/authorizer/main.js': [process.execPath, ['dist/authorizer/main.js']],
};

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** Every process's parent, from /proc. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      map.set(Number(entry), ppid);
    } catch {
      // gone in the meantime
    }
  }
  return map;
}

/** The resident memory of a process and all its descendants, in MiB. */
function treeRssMiB(root: number): number {
  const ppid = parents();
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of ppid) {
      if (tree.has(parent) && !tree.has(pid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  let kib = 0;
  for (const pid of tree) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kib += Number(m?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kib / 1024;
}

async function once(command: string, args: string[], env: Record<string, string>) {
  const port = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(command, args, {
    env: { ...process.env, ...env, AUTHORIZER_PORT: String(port) },
    stdio: 'ignore',
    detached: true,
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/_jitgate/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (performance.now() - started > 60_000) throw new Error('no readyz within 60 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    const readyMs = performance.now() - started;
    // Memory once the first requests are served, as it stays.
    await new Promise((r) => setTimeout(r, 500));
    return { readyMs, rssMiB: treeRssMiB(child.pid!) };
  } finally {
    process.kill(-child.pid!, 'SIGKILL');
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  const i = process.argv.indexOf('--rounds');
  const rounds = i === -1 ? 5 : Number(process.argv[i + 1]);
  const dir = tmpdir();
  const keys = join(dir, `jitgate-startup-keys-${process.pid}.json`);
  writeFileSync(keys, JSON.stringify(await generateSigningKeySet('ES256')), { mode: 0o600 });
  const env = {
    JITGATE_SIGNING_KEYS: keys,
    JITGATE_POLICY: 'policy.example.yml',
    JITGATE_REDIS_PREFIX: `bench-startup-${randomUUID().slice(0, 8)}`,
    LOG_LEVEL: 'warn',
  };
  const results = new Map<string, { readyMs: number[]; rssMiB: number[] }>();
  for (let round = 0; round < rounds; round++) {
    for (const [name, [command, args]] of Object.entries(VARIANTS)) {
      const r = await once(command, args, env);
      const acc = results.get(name) ?? { readyMs: [], rssMiB: [] };
      acc.readyMs.push(r.readyMs);
      acc.rssMiB.push(r.rssMiB);
      results.set(name, acc);
    }
  }
  console.log(`| started with | to readyz (median of ${rounds}) | RSS of the process tree |`);
  console.log('|---|---|---|');
  for (const [name, r] of results) {
    console.log(
      `| \`${name}\` | ${(median(r.readyMs) / 1000).toFixed(2)} s | ${Math.round(median(r.rssMiB))} MiB |`,
    );
  }
}

await main();
