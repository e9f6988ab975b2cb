import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, isDuration, parseDuration } from '../../shared/duration.js';
import { isJitgateError } from '../../shared/errors.js';

/** A canonical duration: units largest first, each below the next unit up, at least one present. */
const canonical = fc
  .tuple(
    fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
    fc.option(fc.integer({ min: 1, max: 23 }), { nil: undefined }),
    fc.option(fc.integer({ min: 1, max: 59 }), { nil: undefined }),
    fc.option(fc.integer({ min: 1, max: 59 }), { nil: undefined }),
  )
  .map(([d, h, m, s]) =>
    [d && `${d}d`, h && `${h}h`, m && `${m}m`, s && `${s}s`].filter((part) => part !== undefined).join(''),
  )
  .filter((text) => text !== '');

/** Strings made of the characters durations use, so that near misses are tried often. */
const nearMiss = fc.string({ unit: fc.constantFrom(...'0123456789dhmsw .-+:'), maxLength: 12 });

function refusal(text: string): unknown {
  try {
    parseDuration(text);
  } catch (err) {
    return err;
  }
  throw new Error(`expected "${text}" to be refused`);
}

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['1d2h3m4s', 93_784_000],
    ['90m', 5_400_000],
    [' 2H ', 7_200_000],
    ['0h1m', 60_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    '',
    ' ',
    '0s',
    '0h0m',
    '2',
    'h',
    '1.5h',
    '-1h',
    '+1h',
    '1m1h',
    '2hh',
    '1h1h',
    '1 h',
    'forever',
    '1w',
    '1h 30m',
  ])('"%s" is refused with duration_invalid and the accepted forms', (text) => {
    const err = refusal(text);
    expect(isJitgateError(err, 'duration_invalid')).toBe(true);
    expect((err as Error).message).toMatch(/30s, 15m, 2h, 1h30m or 1d|at least 1s/);
    expect(isDuration(text)).toBe(false);
  });

  it('when given something that is not a string, even one that cannot be printed, then it is duration_invalid', () => {
    for (const input of [{ toString: false }, Object.create(null), 42, null]) {
      expect(() => parseDuration(input as never)).toThrow(
        expect.objectContaining({ code: 'duration_invalid' }),
      );
    }
  });

  it('when given any string, then it parses to more than zero or throws duration_invalid, nothing else', () => {
    const check = (text: string) => {
      try {
        return parseDuration(text) > 0;
      } catch (err) {
        return isJitgateError(err, 'duration_invalid');
      }
    };
    fc.assert(fc.property(fc.string(), check));
    fc.assert(fc.property(nearMiss, check));
  });
});

describe('formatDuration', () => {
  it.each([
    [30_000, '30s'],
    [5_400_000, '1h30m'],
    [86_400_000 + 1_000, '1d1s'],
    [1_999, '1s'],
    [999, '0s'],
    [0, '0s'],
    [-5_000, '0s'],
    [Number.NaN, '0s'],
    [Number.POSITIVE_INFINITY, '0s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('when a canonical duration is parsed then formatted, then the same text comes back', () => {
    fc.assert(fc.property(canonical, (text) => formatDuration(parseDuration(text)) === text));
  });

  it('when whole seconds are formatted then parsed, then the same number comes back', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 * 86_400 }),
        (s) => parseDuration(formatDuration(s * 1000)) === s * 1000,
      ),
    );
  });
});
