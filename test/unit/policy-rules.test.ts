import { describe, expect, it } from 'vitest';
import { isJitgateError } from '../../shared/errors.js';
import {
  checkExtension,
  checkNote,
  checkReason,
  checkReasonFor,
  MAX_REASON,
} from '../../shared/policy/index.js';
import { grafana } from './bot-views-fixtures.js';

const H = 3_600_000;

function refusal(rule: () => unknown): { code: string; message: string } {
  try {
    rule();
  } catch (err) {
    if (isJitgateError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected the rule to refuse');
}

describe('request rules', () => {
  it('when a reason has odd spacing, then it is collapsed; when it is blank, then input_invalid asks for one', () => {
    expect(checkReason('  INC-1\n\t looking\u00a0at it ')).toBe('INC-1 looking at it');
    expect(refusal(() => checkReason(' \n '))).toMatchObject({
      code: 'input_invalid',
      message: expect.stringMatching(/^Say why you need access, e\.g\. /),
    });
  });

  it('when a reason or note is longer than MAX_REASON, then it is refused with its length; at MAX_REASON it is kept', () => {
    expect(checkReason('r'.repeat(MAX_REASON))).toHaveLength(MAX_REASON);
    expect(refusal(() => checkNote('n'.repeat(MAX_REASON + 7)))).toMatchObject({
      code: 'input_invalid',
      message: expect.stringContaining(`(${MAX_REASON + 7} characters)`),
    });
    expect(checkNote(undefined)).toBe('');
  });

  it('when a resource has a reasonPattern, then a reason must match it and its ticket id is kept', () => {
    const prod = { ...grafana, reasonPattern: '^(INC|CHG)-[0-9]+' };
    const retry = '/access grafana/viewer 2h';
    expect(checkReasonFor(prod, ' INC-42  slow queries ', retry)).toEqual({
      reason: 'INC-42 slow queries',
      ticket: 'INC-42',
    });
    expect(checkReasonFor(grafana, 'looking around', retry)).toEqual({ reason: 'looking around' });
    for (const reason of ['looking at INC-42', 'inc-42 lower case', 'INC-', 'CHG42', 'INC–42 (en dash)']) {
      const refused = refusal(() => checkReasonFor(prod, reason, retry));
      expect(refused.code, reason).toBe('input_invalid');
      expect(refused.message).toContain('must match ^(INC|CHG)-[0-9]+');
      expect(refused.message).toContain(`try again: ${retry} <ticket>`);
    }
    // The blank and too-long rules still come first, with their own words.
    expect(refusal(() => checkReasonFor(prod, '  ', retry)).message).toMatch(/^Say why you need access/);
    expect(refusal(() => checkReasonFor(prod, `INC-1 ${'x'.repeat(MAX_REASON)}`, retry)).message).toContain(
      'too long',
    );
  });

  it('when a reasonPattern names a ticket group, then the ticket id is that group, at most 64 characters', () => {
    const named = { ...grafana, reasonPattern: '\\[(?<ticket>[A-Z]+-[0-9]+)\\]' };
    expect(checkReasonFor(named, 'fixing [OPS-7] now', 'x').ticket).toBe('OPS-7');
    const long = { ...grafana, reasonPattern: '^[A-Z0-9-]+' };
    expect(checkReasonFor(long, `${'A'.repeat(100)} why`, 'x').ticket).toHaveLength(64);
  });

  it('when an extension keeps the grant within the maximum, then it is allowed; beyond, it says how much is left to ask', () => {
    expect(checkExtension(grafana, 1 * H, 3 * H)).toBe(3 * H);
    expect(refusal(() => checkExtension(grafana, 3 * H, 2 * H))).toMatchObject({
      code: 'duration_too_long',
      message: expect.stringContaining('this grant has 3h left, so ask for at most 1h'),
    });
  });
});
