import type { Redis } from 'ioredis';
import type { SigningKeys } from '../shared/tokens/index.js';
import { cpuSnapshot, foreignCores } from './cpu.js';
import { type LoadResult, type LoadSpec, load } from './load.js';
import type { RpcChild } from './servers/rpc.js';

export interface Timing {
  /** Seconds of measured load per run. */
  runSec: number;
  /** Seconds of unmeasured load before each run. */
  warmupSec: number;
  /** Each comparison is repeated this many times, interleaved; medians are reported. */
  rounds: number;
  connections: number;
}

export const TIMING: Record<'quick' | 'full', Timing> = {
  quick: { runSec: 1.5, warmupSec: 0.5, rounds: 1, connections: 10 },
  full: { runSec: 3, warmupSec: 0.5, rounds: 5, connections: 10 },
};

export interface TargetInfo {
  bareUrl: string;
  /** The least a Node proxy does (minimal-proxy.ts). */
  minimalUrl: string;
  jitgateUrl: string;
  /** The same authorizer with LOG_LEVEL=warn: no access log line per request. */
  quietUrl: string;
  pid: number;
}

/** What every scenario gets from run.ts. */
export interface BenchContext {
  quick: boolean;
  /** `--variants a,b`: only these runs of the proxy scenario (for a quick A/B). */
  variants?: string[];
  /** `--profile`: the processes under test write V8 CPU profiles into bench/profiles/. */
  profile: boolean;
  timing: Timing;
  redisUrl: string;
  /** The orchestrator's own Redis connection (stats, grants). */
  redis: Redis;
  /** The bench's key prefix (random, cleaned up at the end); the authorizer under test uses it. */
  prefix: string;
  keys: SigningKeys;
  keysJson: string;
  upstream: RpcChild<{ url: string }>;
  target: RpcChild<TargetInfo>;
  /** The bench's own processes (for telling its CPU use from other processes'). */
  pids: Set<number>;
  log(message: string): void;
  /** One measured run with the bench's connections and durations. */
  load(spec: Omit<LoadSpec, 'connections' | 'durationSec' | 'warmupSec'>): Promise<LoadResult>;
}

/** load() with the bench's timing, noting how busy other processes kept the machine meanwhile. */
export function loadWith(timing: Timing, pids: Set<number>) {
  return async (spec: Omit<LoadSpec, 'connections' | 'durationSec' | 'warmupSec'>): Promise<LoadResult> => {
    const before = await cpuSnapshot(pids);
    const r = await load({
      ...spec,
      connections: timing.connections,
      durationSec: timing.runSec,
      warmupSec: timing.warmupSec,
    });
    return { ...r, foreignCores: foreignCores(before, await cpuSnapshot(pids)) };
  };
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * What a variant's rounds add up to: the median throughput, latencies and CPU per request (each
 * round's figure, then the middle one), and the rounds themselves for the report.
 */
export function medianFigures(rounds: LoadResult[], cpuUsPerRound: number[]) {
  return {
    rps: median(rounds.map((r) => r.rps)),
    p50Us: median(rounds.map((r) => r.latencyUs.p50)),
    p99Us: median(rounds.map((r) => r.latencyUs.p99)),
    cpuUsPerRequest: median(cpuUsPerRound),
    rounds,
  };
}

/** Percentile (0..1) of a list of samples, nearest rank. */
export function percentile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
