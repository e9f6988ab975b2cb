import { describe, expect, it } from 'vitest';
import { dateToken } from '../../bot/views/mrkdwn.js';
import { utcMinute } from '../../shared/clock.js';

describe('a time for people', () => {
  it('when a time is shown without the reader’s time zone, then it is UTC to the minute, the same on pages and in Slack’s fallback', () => {
    expect(utcMinute(1_700_000_000_000)).toBe('2023-11-14 22:13 UTC');
    expect(utcMinute(Date.parse('2026-12-06T14:02:59.999Z'))).toBe('2026-12-06 14:02 UTC');
    expect(dateToken(1_700_000_000_000)).toBe(
      '<!date^1700000000^{date_short_pretty} at {time}|2023-11-14 22:13 UTC>',
    );
  });
});
