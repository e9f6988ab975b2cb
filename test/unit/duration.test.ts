import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../shared/duration.js';
import { isJitgateError } from '../../shared/errors.js';

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['1d2h3m4s', 93_784_000],
    [' 2H ', 7_200_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '0s', '2', 'h', '1.5h', '-1h', '1m1h', '2hh', '1 h', 'forever', '1w'])(
    '"%s" is refused',
    (text) => {
      expect(() => parseDuration(text)).toThrow(/not a duration|zero/);
    },
  );

  it('when formatted then parsed, then whole seconds round-trip', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        (s) => parseDuration(formatDuration(s * 1000)) === s * 1000,
      ),
    );
  });

  it('when a valid duration is parsed then formatted, then it reads back to the same length', () => {
    const part = (unit: string, max: number) =>
      fc.option(
        fc.integer({ min: 1, max }).map((n) => `${n}${unit}`),
        { nil: '' },
      );
    fc.assert(
      fc.property(part('d', 30), part('h', 23), part('m', 59), part('s', 59), (d, h, m, s) => {
        const text = `${d}${h}${m}${s}`;
        if (text === '') return true;
        const ms = parseDuration(text);
        return parseDuration(formatDuration(ms)) === ms && formatDuration(ms) === text;
      }),
    );
  });

  it('when given any string, then it parses or throws duration_invalid, nothing else', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          return parseDuration(text) > 0;
        } catch (err) {
          return isJitgateError(err, 'duration_invalid');
        }
      }),
    );
  });
});
