import { describe, expect, it } from 'vitest';
import { isJitgateError } from '../../shared/errors.js';
import { checkReasonFor, loadPolicy } from '../../shared/policy/index.js';
import { countFigures } from './figures.js';

/**
 * reasonPattern attacked by the person asking: the policy check refuses the textbook nested
 * repetition (`(a+)+`), but catastrophic patterns have many other shapes (a group inside a group,
 * overlapping alternatives, a repeated `.*`), and a requester who can type the reason chooses the
 * input that makes one backtrack for minutes, stalling the bot (or worker) for everyone. Whatever the
 * pattern, checking a reason is bounded: a pattern that takes too long on it refuses the reason with a
 * message for the operators, and a normal pattern still works and keeps its ticket id. Also: the
 * usual bypasses of a ticket rule (other digits, newlines, invisible characters) do not pass.
 */
countFigures('attack');

function policyWith(pattern: string) {
  return loadPolicy(`
defaults: { approvalChannel: C0APPROVALS }
resources:
  prod-db:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /prod-db }
    approvers: { users: [U0ALICE] }
    reasonPattern: ${JSON.stringify(pattern)}
`).resources.get('prod-db')!;
}

function refusalOf(check: () => unknown): string {
  try {
    check();
  } catch (err) {
    if (isJitgateError(err)) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'ok';
}

describe('a reasonPattern that backtracks catastrophically', () => {
  // Each passes `policy check` (none is the `(a+)+` shape it looks for), and on the reason beside it
  // a plain RegExp backtracks for far longer than anyone waits (seconds at 28 characters, doubling
  // with each one more; the reason may have 500).
  it.each([
    ['a repeated group inside a group', '^((a+))+$', `${'a'.repeat(40)}!`],
    ['overlapping alternatives repeated', '^(a|a)+$', `${'a'.repeat(40)}!`],
    ['a non-capturing group inside one', '^(?:(?:\\w+))+ INC', `${'a'.repeat(40)}!`],
    ['overlapping classes repeated', '^(\\w|\\d)+-INC$', `${'1'.repeat(40)}!`],
    ['a repeated .* with a fixed count', '^(.*a){20}$', `${'a'.repeat(60)}!`],
  ])(
    'when the pattern has %s, then checking a crafted reason is cut short and refused with a message for the operators',
    (_, pattern, reason) => {
      const prod = policyWith(pattern);
      const said = refusalOf(() => checkReasonFor(prod, reason, '/access prod-db 1h'));
      expect(said).toMatch(/^input_invalid: /);
      expect(said).toContain('took too long');
      expect(said).toContain('reasonPattern');
    },
  );

  it('when a slow pattern is given a reason it matches quickly, then the reason is taken', () => {
    expect(checkReasonFor(policyWith('^((a+))+$'), 'aaaa', 'x')).toEqual({ reason: 'aaaa', ticket: 'aaaa' });
  });

  it('when an ordinary pattern is checked many times, then each answer and ticket id is as before', () => {
    const prod = policyWith('^(INC|CHG)-(?<ticket>[0-9]+)');
    for (let i = 0; i < 50; i += 1) {
      expect(checkReasonFor(prod, `INC-${i} slow queries`, 'x')).toEqual({
        reason: `INC-${i} slow queries`,
        ticket: String(i),
      });
    }
  });
});

describe('a ticket rule tricked by the characters of the reason', () => {
  const prod = policyWith('^(INC|CHG)-[0-9]+$');
  it.each([
    ['full-width letters and digits', 'ＩＮＣ-４２'],
    ['Arabic-Indic digits', 'INC-٤٢'],
    ['a Cyrillic look-alike letter', 'INС-42'],
    ['a zero-width space inside', 'INC-\u200b42'],
    ['a newline then a ticket', 'nothing\nINC-42'],
    ['a ticket then a newline and more', 'INC-42\nDROP everything'],
    ['a right-to-left override', '\u202eINC-42'],
  ])('when the reason has %s, then it does not pass', (_, reason) => {
    expect(refusalOf(() => checkReasonFor(prod, reason, 'x'))).toContain('must match');
  });
});
