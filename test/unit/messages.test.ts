import { describe, expect, it } from 'vitest';
import { refusal } from '../../authorizer/refusals.js';
import { parseDuration } from '../../shared/duration.js';
import { ERROR_CODES, errorFor, isJitgateError } from '../../shared/errors.js';
import { INPUT_PROBLEMS, MESSAGES, messageOf, quoted, TOKEN_PROBLEMS } from '../../shared/messages.js';
import { tokenInvalid } from '../../shared/tokens/verifier.js';

describe('the message catalogue', () => {
  it('when an error code exists, then the catalogue words it (a new code without an entry fails here)', () => {
    const missing = ERROR_CODES.filter((code) => typeof MESSAGES[code] !== 'function');
    expect(missing).toEqual([]);
    expect(Object.keys(MESSAGES).sort()).toEqual([...ERROR_CODES].sort());
  });

  it.each(ERROR_CODES)('when %s is raised without fields, then it still reads as a sentence', (code) => {
    const message = messageOf(code);
    expect(message).toMatch(/^\S.*[.)]$/s);
    expect(message).not.toMatch(/undefined|null|\[object/);
  });

  it.each(ERROR_CODES)('when %s is raised with errorFor, then its message is the catalogue’s', (code) => {
    const fields = { resource: 'grafana', grantId: 'g_x', detail: 'revoked', input: 'soon', length: 600 };
    const err = errorFor(code, fields);
    expect(isJitgateError(err, code)).toBe(true);
    expect(err.message).toBe(messageOf(code, fields));
    expect(err.fields).toBe(fields);
  });

  it.each(Object.keys(INPUT_PROBLEMS))(
    'when input is invalid because of %s, then that problem has its own sentence',
    (problem) => {
      const message = messageOf('input_invalid', { problem });
      expect(message).toBe(INPUT_PROBLEMS[problem as keyof typeof INPUT_PROBLEMS]({}));
      expect(message).not.toMatch(/undefined|null|\[object/);
    },
  );

  it('when a token is not valid, then the verifier says why in the catalogue’s words for that reason', () => {
    for (const [reason, sentence] of Object.entries(TOKEN_PROBLEMS)) {
      expect(tokenInvalid(reason as keyof typeof TOKEN_PROBLEMS).message).toBe(sentence);
    }
    expect(tokenInvalid('audience', { audience: 'grafana', expected: 'kibana' }).message).toBe(
      'The access token is for another resource (grafana, not kibana).',
    );
  });

  it('when the authorizer refuses with a shared code, then it says what the catalogue says', () => {
    for (const code of [
      'grant_not_active',
      'code_used',
      'code_unknown',
      'token_missing',
      'unavailable',
    ] as const) {
      expect(refusal(code).message).toBe(messageOf(code));
    }
  });

  it('when a grant is no longer active, then one sentence says so, naming the grant and why when known', () => {
    expect(messageOf('grant_not_active')).toBe('This grant is no longer active.');
    expect(messageOf('grant_not_active', { grantId: 'g_abc' })).toBe('Grant g_abc is no longer active.');
    expect(messageOf('grant_not_active', { detail: 'revoked' })).toBe(
      'This grant is no longer active (it was revoked).',
    );
  });

  it('when a duration is not one (zero included), then parseDuration quotes it back with the right forms', () => {
    for (const text of ['soon', '0m', '2h30', '']) {
      let thrown: unknown;
      try {
        parseDuration(text);
      } catch (err) {
        thrown = err;
      }
      expect(isJitgateError(thrown, 'duration_invalid')).toBe(true);
      expect((thrown as Error).message).toBe(
        `${quoted(text)} is not a duration; write it like 30s, 15m, 2h, 1h30m or 1d.`,
      );
    }
  });

  it('when what is quoted back is long or holds backticks, then it is clipped and cannot break the formatting', () => {
    expect(quoted('a`b')).toBe("`a'b`");
    expect(quoted('x'.repeat(100))).toBe(`\`${'x'.repeat(40)}…\``);
  });
});
