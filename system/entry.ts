import { isJitgateError } from '../shared/errors.js';

/**
 * Runs an entry file's start and exits 1 if it fails. Configuration, policy and key errors are
 * written for the operator, so they are printed as they are, without a stack.
 */
export function exitOnFailure(start: () => Promise<void>): void {
  start().catch((err: unknown) => {
    console.error(isJitgateError(err) ? err.message : err);
    process.exit(1);
  });
}
