/**
 * The one cap on text that reaches Redis from outside: a path, a user agent, a client label, a
 * name, a reason. Anything longer is cut, and the cut says so (`…[cut 12288 chars]`), so that a
 * reader of the audit log never mistakes a shortened value for the whole one, and one request can
 * never make a stored record large. Reasons are checked against `MAX_REASON` (500) where they are
 * typed, so a valid reason is never cut here.
 */
export const MAX_STORED_TEXT = 512;

/**
 * `text` unchanged when it fits in `max` characters; else its start and a marker saying how much was
 * cut, at most `max` characters in all (never splitting a surrogate pair).
 *
 * @example boundedText('/a'.repeat(5000)) // '/a/a/a…[cut 9538 chars]' (512 characters)
 */
export function boundedText(text: string, max: number = MAX_STORED_TEXT): string {
  if (text.length <= max) return text;
  // The marker's own length depends on the number it shows; the number is at most text.length.
  const marker = (cut: number) => `…[cut ${cut} chars]`;
  let keep = Math.max(0, max - marker(text.length).length);
  const last = text.charCodeAt(keep - 1);
  if (keep > 0 && last >= 0xd800 && last <= 0xdbff) keep -= 1;
  return `${text.slice(0, keep)}${marker(text.length - keep)}`;
}

/**
 * An audit event (or any record about to be stored) with every string in it bounded, nested objects
 * and lists included. Keys are the code's own and are left as they are.
 *
 * @example boundedRecord({ type: 'access.denied', path: hugePath }).path.length // 512
 */
export function boundedRecord<T extends Record<string, unknown>>(record: T, max = MAX_STORED_TEXT): T {
  return bound(record, max) as T;
}

function bound(value: unknown, max: number): unknown {
  if (typeof value === 'string') return boundedText(value, max);
  if (Array.isArray(value)) return value.map((v) => bound(v, max));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = bound(v, max);
    return out;
  }
  return value;
}
