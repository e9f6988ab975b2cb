import { describe, expect, it } from 'vitest';
import { boundedRecord, boundedText, MAX_STORED_TEXT } from '../../shared/audit/bounded.js';
import { MAX_REASON } from '../../shared/policy/rules.js';

describe('the cap on stored text', () => {
  it('when text fits, then it is kept as it is; a reason of the longest allowed length is never cut', () => {
    expect(boundedText('/grafana/d/abc')).toBe('/grafana/d/abc');
    const reason = 'r'.repeat(MAX_REASON);
    expect(boundedText(reason)).toBe(reason);
    expect(boundedText('x'.repeat(MAX_STORED_TEXT))).toHaveLength(MAX_STORED_TEXT);
  });

  it('when text is longer, then its start is kept with a marker saying how much was cut, within the cap', () => {
    const path = `/app/${'a'.repeat(12_795)}`;
    const cut = boundedText(path);
    expect(cut.length).toBeLessThanOrEqual(MAX_STORED_TEXT);
    expect(cut.startsWith('/app/aaa')).toBe(true);
    const m = /…\[cut (\d+) chars\]$/.exec(cut);
    expect(Number(m?.[1])).toBe(path.length - (cut.length - m![0].length));
    expect(boundedText('abcdef', 3)).toMatch(/^…\[cut \d+ chars\]$|^$/);
  });

  it('when the cut falls inside a surrogate pair, then the pair is dropped whole', () => {
    const emoji = '😀'.repeat(1_000);
    const cut = boundedText(emoji);
    const kept = cut.slice(0, cut.indexOf('…'));
    expect(kept.length % 2).toBe(0);
    expect(() => encodeURIComponent(kept)).not.toThrow();
  });

  it('when a record is bounded, then every string in it is, nested ones too, and other values stay', () => {
    const long = 'u'.repeat(10_000);
    const r = boundedRecord({
      type: 'access.denied',
      at: 5,
      ok: true,
      userAgent: long,
      nested: { list: [long, 1] },
    });
    expect(r.type).toBe('access.denied');
    expect(r.at).toBe(5);
    expect(r.ok).toBe(true);
    expect(r.userAgent.length).toBeLessThanOrEqual(MAX_STORED_TEXT);
    expect((r.nested.list[0] as string).length).toBeLessThanOrEqual(MAX_STORED_TEXT);
    expect(r.nested.list[1]).toBe(1);
  });
});
