import { describe, expect, it } from 'vitest';
import { isJitgateError } from '../../shared/errors.js';
import { checkExtension, checkNote, checkReason, MAX_REASON } from '../../shared/policy/index.js';
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

  it('when an extension keeps the grant within the maximum, then it is allowed; beyond, it says how much is left to ask', () => {
    expect(checkExtension(grafana, 1 * H, 3 * H)).toBe(3 * H);
    expect(refusal(() => checkExtension(grafana, 3 * H, 2 * H))).toMatchObject({
      code: 'duration_too_long',
      message: expect.stringContaining('this grant has 3h left, so ask for at most 1h'),
    });
  });
});
