/** The time source, injected so that callers can be tested; production uses the system clock. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * A time as people read it where no time zone of theirs is known (a page, Slack's fallback text),
 * to the minute.
 *
 * @example utcMinute(1_700_000_000_000) // '2023-11-14 22:13 UTC'
 */
export function utcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
