import { readFile } from 'node:fs/promises';

/**
 * How busy the machine was with work that is not the bench's: all CPUs' busy time (/proc/stat)
 * minus the bench's own processes' (/proc/<pid>/stat: the orchestrator with its load-generating
 * worker thread, the servers, Redis when it is local). A run with other processes busy is noisy;
 * the figure says how much. Linux only; elsewhere it reads as unknown (NaN).
 */
export interface CpuSnapshot {
  at: number;
  busyTicks: number;
  oursTicks: number;
}

const TICKS_PER_SEC = 100; // USER_HZ on Linux

async function busyTicks(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return user! + nice! + system! + irq! + softirq! + steal!;
}

async function processTicks(pid: number): Promise<number> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return 0;
  }
}

export async function cpuSnapshot(pids: Iterable<number>): Promise<CpuSnapshot> {
  try {
    const [busy, ...ours] = await Promise.all([busyTicks(), ...[...pids].map(processTicks)]);
    return { at: performance.now(), busyTicks: busy, oursTicks: ours.reduce((a, b) => a + b, 0) };
  } catch {
    return { at: performance.now(), busyTicks: Number.NaN, oursTicks: Number.NaN };
  }
}

/** Average cores kept busy by other processes between two snapshots. */
export function foreignCores(before: CpuSnapshot, after: CpuSnapshot): number {
  const seconds = (after.at - before.at) / 1000;
  const foreign = after.busyTicks - before.busyTicks - (after.oursTicks - before.oursTicks);
  return Math.max(0, foreign / TICKS_PER_SEC / seconds);
}

/** The 1-minute load average (Linux), NaN elsewhere. */
export async function loadAverage(): Promise<number> {
  try {
    return Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0]);
  } catch {
    return Number.NaN;
  }
}
