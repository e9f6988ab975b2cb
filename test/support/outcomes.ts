import { isJitgateError } from '../../shared/errors.js';

/**
 * The error code a use case or transition refused with, or `whenOk` when it went through; anything
 * that is not a JitgateError is thrown on.
 *
 * @example expect(await codeOf(access.approve(id, stranger))).toBe('not_an_approver');
 */
export async function codeOf(p: Promise<unknown>, whenOk = 'ok'): Promise<string> {
  try {
    await p;
    return whenOk;
  } catch (err) {
    if (isJitgateError(err)) return err.code;
    throw err;
  }
}

/** `code: message` of the refusal, or 'ok' (to check what a person is told). */
export async function refusalOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isJitgateError(err)) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'ok';
}
