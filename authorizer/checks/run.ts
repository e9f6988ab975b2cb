import type { AccessContext, Check, CheckResult } from './context.js';

/**
 * Runs the checks in order and answers the first refusal, or undefined when every check passed.
 * The list is data: a transport or a sign-in method composes its own (see http.ts). Only the
 * checks that return a promise are awaited.
 *
 * @example const refused = await runChecks(checks, ctx); if (!refused && isAuthorized(ctx)) allow(ctx);
 */
export async function runChecks<C extends AccessContext>(
  checks: readonly Check<C>[],
  ctx: C,
): Promise<CheckResult> {
  for (let i = 0; i < checks.length; i += 1) {
    const answer = checks[i]!(ctx);
    const refused = answer instanceof Promise ? await answer : answer;
    if (refused !== undefined) return refused;
  }
  return undefined;
}
