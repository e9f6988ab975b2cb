import { createContext, Script } from 'node:vm';

/**
 * How long checking one reason against a reasonPattern may take. A pattern answers a 500-character
 * reason in microseconds unless it backtracks catastrophically, which no syntax check rules out
 * (`((a+))+`, `(a|a)+`, `(.*a){20}` all look harmless to one); then the reason is refused instead.
 */
export const REASON_MATCH_TIMEOUT_MS = 250;

export type ReasonMatch =
  | { matched: true; text: string; ticket?: string | undefined }
  | { matched: false }
  | { matched: 'too_slow' };

// Run in a context of its own so that V8 can interrupt it at the time limit (a RegExp run on the
// main context cannot be stopped); only strings go in and come out.
const MATCH = new Script(
  'const m = new RegExp(pattern, "u").exec(reason); m ? [m[0], m.groups ? m.groups.ticket : undefined] : null',
);

/**
 * `reason` against `pattern` (a JavaScript regular expression, unicode mode), in at most
 * REASON_MATCH_TIMEOUT_MS: what it matched and its group named `ticket`, no match, or `too_slow`.
 * A run that times out is tried once more before `too_slow`: on a busy machine the process can be
 * held off the CPU for longer than the limit while a harmless pattern runs, and a valid reason must
 * not be refused for that (a pattern that really backtracks times out twice, half a second at most).
 *
 * @example matchReason('^(INC|CHG)-(?<ticket>[0-9]+)', 'INC-42 slow') // { matched: true, text: 'INC-42', ticket: '42' }
 */
export function matchReason(pattern: string, reason: string): ReasonMatch {
  let found: unknown;
  for (let attempt = 1; ; attempt++) {
    try {
      found = MATCH.runInContext(createContext({ pattern, reason }), { timeout: REASON_MATCH_TIMEOUT_MS });
      break;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err;
      if (attempt === 2) return { matched: 'too_slow' };
    }
  }
  if (!Array.isArray(found)) return { matched: false };
  const [text, ticket] = found as [unknown, unknown];
  return {
    matched: true,
    text: String(text),
    ticket: typeof ticket === 'string' ? ticket : undefined,
  };
}
