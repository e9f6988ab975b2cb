import { describe, expect, it } from 'vitest';
import { medianFigures } from '../../bench/context.js';
import type { LoadResult } from '../../bench/load.js';

const round = (rps: number, p50: number, p99: number): LoadResult =>
  ({ rps, latencyUs: { mean: p50, p50, p90: p99, p99, p999: p99, max: p99 } }) as LoadResult;

describe("a bench variant's figures", () => {
  it('when rounds are summed up, then each figure is the median of its rounds, and the rounds are kept', () => {
    const rounds = [round(900, 300, 900), round(1_100, 200, 700), round(1_000, 250, 800)];
    expect(medianFigures(rounds, [40, 60, 50])).toEqual({
      rps: 1_000,
      p50Us: 250,
      p99Us: 800,
      cpuUsPerRequest: 50,
      rounds,
    });
  });
});
