import { Worker } from 'node:worker_threads';

/** One load run: autocannon against `url` from a worker thread of its own. */
export interface LoadSpec {
  url: string;
  connections: number;
  durationSec: number;
  /** A short unmeasured run first (JIT, keep-alive sockets, caches). */
  warmupSec: number;
  headers?: Record<string, string>;
  /** When given, each request carries the next of these tokens (round robin over all connections). */
  tokens?: string[];
  tokenIn?: 'bearer' | 'cookie';
  /** Where in `tokens` the rotation starts (to carry on where the previous run stopped). */
  tokenOffset?: number;
  cookieName?: string;
}

export interface LoadResult {
  requests: number;
  /** Responses during the warm-up (not in any figure; for counting Redis commands over the whole run). */
  warmupRequests: number;
  /** How many tokens the rotation went through (warm-up included). */
  tokensUsed: number;
  durationSec: number;
  rps: number;
  /** Response times in microseconds, from every response (not autocannon's 1 ms histogram). */
  latencyUs: { mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
  /** Responses by HTTP status. */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Cores other processes kept busy during the run (see cpu.ts); set by the bench context. */
  foreignCores?: number;
}

/**
 * Runs autocannon in a worker thread: the client gets an event loop (and, mostly, a core) of its
 * own instead of competing with the orchestrator. It still shares the machine with the servers.
 *
 * @example const r = await load({ url: 'http://127.0.0.1:3001/', connections: 10, durationSec: 5, warmupSec: 1 });
 */
export function load(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load-worker.mjs', import.meta.url), { workerData: spec });
    worker.once('message', (msg: LoadResult | { error: string }) => {
      void worker.terminate();
      if ('error' in msg) reject(new Error(`load run failed: ${msg.error}`));
      else resolve(msg);
    });
    worker.once('error', reject);
  });
}

/** The share of responses with one of `expected` statuses (a run that is mostly errors is no figure). */
export function shareWithStatus(r: LoadResult, expected: number[]): number {
  const ok = expected.reduce((n, s) => n + (r.statuses[String(s)] ?? 0), 0);
  return r.requests === 0 ? 0 : ok / r.requests;
}
