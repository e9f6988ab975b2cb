import type { AuditEntry } from './chain.js';

/** One break-glass grant as the audit log tells it: who took what, why, and its review. */
export interface BreakGlassRow {
  grantId: string;
  requestId: string;
  holder: string;
  resource: string;
  role: string;
  /** When it was granted (ms since the epoch) and as ISO 8601. */
  at: number;
  time: string;
  reason: string;
  ticket?: string | undefined;
  /** How it ended, when the log says: revoked or expired. */
  ended?: 'revoked' | 'expired' | undefined;
  review: { verdict: 'justified' | 'flagged'; by: string; at: number; time: string; note: string } | null;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Break-glass grants in the order they were granted, each with its review state, from the audit
 * events (the report does not depend on the requests still being in Redis). A review or an end
 * whose grant was granted before the range is ignored.
 *
 * @example const rows = await breakGlassReport(exportAudit(redis, keys, { sinceMs }));
 */
export async function breakGlassReport(entries: AsyncIterable<AuditEntry>): Promise<BreakGlassRow[]> {
  const rows = new Map<string, BreakGlassRow>();
  for await (const { event } of entries) {
    const grantId = text(event.grantId);
    if (event.type === 'grant.issued' && event.breakGlass === true && grantId) {
      rows.set(grantId, {
        grantId,
        requestId: text(event.requestId),
        holder: text(event.subject),
        resource: text(event.resource),
        role: text(event.role),
        at: event.at,
        time: new Date(event.at).toISOString(),
        reason: text(event.reason),
        ticket: typeof event.ticket === 'string' ? event.ticket : undefined,
        review: null,
      });
      continue;
    }
    const row = rows.get(grantId);
    if (!row) continue;
    if (event.type === 'grant.reviewed' && row.review === null) {
      const verdict = event.verdict === 'flagged' ? 'flagged' : 'justified';
      row.review = {
        verdict,
        by: text(event.actor),
        at: event.at,
        time: new Date(event.at).toISOString(),
        note: text(event.note),
      };
    } else if (event.type === 'grant.revoked') row.ended = 'revoked';
    else if (event.type === 'grant.expired') row.ended ??= 'expired';
  }
  return [...rows.values()];
}

/** The report as lines for a terminal: a summary, then one line per grant, unreviewed ones marked. */
export function formatBreakGlassReport(rows: readonly BreakGlassRow[], range: string): string {
  const count = (v: 'justified' | 'flagged') => rows.filter((r) => r.review?.verdict === v).length;
  const unreviewed = rows.filter((r) => r.review === null).length;
  const lines = [
    `break-glass grants ${range}: ${rows.length} (${unreviewed} unreviewed, ${count('justified')} justified, ${count('flagged')} flagged)`,
  ];
  for (const r of rows) {
    const state = r.review
      ? `${r.review.verdict.toUpperCase()} by ${r.review.by} at ${r.review.time}${r.review.note ? `: ${r.review.note}` : ''}`
      : 'UNREVIEWED';
    const ended = r.ended ? ` (${r.ended})` : '';
    lines.push(
      `${r.time}  ${r.grantId}  ${r.holder}  ${r.resource}/${r.role}${ended}  "${r.reason}"  ${state}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
