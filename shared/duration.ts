import { errorFor } from './errors.js';

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
const ORDER = ['d', 'h', 'm', 's'] as const;
const PATTERN = /^(?:(\d{1,4})d)?(?:(\d{1,4})h)?(?:(\d{1,5})m)?(?:(\d{1,6})s)?$/;

/**
 * Parses a duration such as `30s`, `15m`, `2h`, `1h30m` or `1d` into milliseconds. Units go from
 * largest to smallest, each at most once; the result is greater than zero. Anything else is
 * `duration_invalid`, quoting the text back.
 *
 * @example parseDuration('1h30m') // 5_400_000
 */
export function parseDuration(text: string): number {
  // Callers pass user input; something other than a string is refused like any bad text.
  const trimmed = typeof text === 'string' ? text.trim().toLowerCase() : '';
  const match = PATTERN.exec(trimmed);
  // Zero, like any other text that is not a duration, gets the catalogue's one wording.
  if (!match || trimmed === '')
    throw errorFor('duration_invalid', { input: typeof text === 'string' ? text : '' });
  let ms = 0;
  ORDER.forEach((unit, i) => {
    const n = match[i + 1];
    if (n !== undefined) ms += Number(n) * UNIT_MS[unit];
  });
  if (ms <= 0) throw errorFor('duration_invalid', { input: text });
  return ms;
}

/** True when `text` parses as a duration. */
export function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Formats milliseconds as the shortest duration string (whole seconds, rounded down; `0s` for less
 * than a second, a negative number or one that is not finite).
 *
 * @example formatDuration(5_400_000) // '1h30m'
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '0s';
  let rest = Math.max(0, Math.floor(ms / 1000)) * 1000;
  if (rest === 0) return '0s';
  let out = '';
  for (const unit of ORDER) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return out;
}
