import type { Results } from './report.js';

/**
 * bench/chart.svg, drawn by hand (no charting dependency): throughput and p99 of every proxy run
 * side by side, the scale runs, and the Slack-side latencies against their targets.
 */
interface Row {
  label: string;
  value: number;
  color: string;
  /** A target to mark on the row (same unit). */
  target?: number;
  note?: string;
}

const COLORS = {
  direct: '#8c8c8c',
  bare: '#4e79a7',
  jitgate: '#f28e2b',
  refused: '#e15759',
  scale: '#59a14f',
  slack: '#76b7b2',
};
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';
const ROW_H = 22;
const LABEL_W = 320;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function panel(
  x: number,
  y: number,
  width: number,
  title: string,
  rows: Row[],
  format: (v: number) => string,
  /** Rows above this are drawn cut short (a broken bar) so that the others stay readable. */
  cap?: number,
): string {
  const barW = width - LABEL_W - 90;
  const max = (cap ?? Math.max(...rows.map((r) => Math.max(r.value, r.target ?? 0))) * 1.05) || 1;
  const parts = [`<text x="${x}" y="${y}" font-size="14" font-weight="600" ${FONT}>${esc(title)}</text>`];
  rows.forEach((r, i) => {
    const top = y + 12 + i * ROW_H;
    const broken = r.value > max;
    const w = Math.max(1, (Math.min(r.value, max) / max) * barW);
    parts.push(
      `<text x="${x + LABEL_W - 8}" y="${top + 15}" font-size="11.5" text-anchor="end" ${FONT}>${esc(r.label)}</text>`,
      `<rect x="${x + LABEL_W}" y="${top + 3}" width="${w.toFixed(1)}" height="${ROW_H - 6}" fill="${r.color}" rx="2"/>`,
      ...(broken
        ? [
            `<path d="M${(x + LABEL_W + w - 16).toFixed(1)} ${top + 2} l6 ${ROW_H - 4} M${(x + LABEL_W + w - 10).toFixed(1)} ${top + 2} l6 ${ROW_H - 4}" stroke="#fff" stroke-width="3"/>`,
          ]
        : []),
      `<text x="${(x + LABEL_W + w + 5).toFixed(1)}" y="${top + 15}" font-size="11" ${FONT}>${esc(format(r.value))}${r.note ? ` ${esc(r.note)}` : ''}</text>`,
    );
    if (r.target !== undefined) {
      const tx = x + LABEL_W + (r.target / max) * barW;
      parts.push(
        `<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${top + 1}" y2="${top + ROW_H - 1}" stroke="#333" stroke-width="2" stroke-dasharray="3,2"/>`,
      );
    }
  });
  return parts.join('\n');
}

const colorOf = (name: string) =>
  name === 'direct'
    ? COLORS.direct
    : name === 'bare' || name === 'minimal' || name === 'nginx'
      ? COLORS.bare
      : name.startsWith('refused')
        ? COLORS.refused
        : COLORS.jitgate;

export function renderChart(r: Results): string {
  const parts: string[] = [];
  let y = 30;
  const width = 1000;
  const rows: {
    label: string;
    name: string;
    rps: number;
    p99: number;
    rpsTarget?: number;
    p99Target?: number;
  }[] = [];
  if (r.proxy) {
    const bare = r.proxy.variants.find((v) => v.name === 'bare');
    for (const v of r.proxy.variants) {
      const gated = bare && (v.name === 'jitgate' || v.name === 'jitgate-cookie');
      rows.push({
        label: v.label,
        name: v.name,
        rps: v.rps,
        p99: v.p99Us / 1000,
        ...(gated ? { rpsTarget: bare.rps * 1.5, p99Target: bare.p99Us / 1000 } : {}),
      });
    }
  }
  if (r.scale) {
    const smallest = r.scale.sizes[0];
    for (const s of r.scale.sizes) {
      rows.push({
        label: `jitgate, ${s.activeGrants.toLocaleString('en-US')} active grants`,
        name: 'scale',
        rps: s.rps,
        p99: s.p99Us / 1000,
        ...(smallest && s !== smallest ? { rpsTarget: smallest.rps * 0.95 } : {}),
      });
    }
  }
  if (rows.length > 0) {
    const color = (n: string) => (n === 'scale' ? COLORS.scale : colorOf(n));
    // The direct upstream is several times faster than any proxy: its bar is cut so the rest can be read.
    const proxies = rows.filter((p) => p.name !== 'direct');
    const cap =
      proxies.length > 0
        ? Math.max(...proxies.map((p) => Math.max(p.rps, p.rpsTarget ?? 0))) * 1.15
        : undefined;
    parts.push(
      panel(
        10,
        y,
        width - 20,
        'Throughput, req/s (median of rounds; dashed: the target for that row)',
        rows.map((p) => ({
          label: p.label,
          value: p.rps,
          color: color(p.name),
          ...(p.rpsTarget ? { target: p.rpsTarget } : {}),
        })),
        (v) => v.toFixed(0),
        cap,
      ),
    );
    y += 40 + rows.length * ROW_H;
    parts.push(
      panel(
        10,
        y,
        width - 20,
        'p99 latency, ms (median of rounds; dashed: the target for that row)',
        rows.map((p) => ({
          label: p.label,
          value: p.p99,
          color: color(p.name),
          ...(p.p99Target ? { target: p.p99Target } : {}),
        })),
        (v) => v.toFixed(2),
      ),
    );
    y += 40 + rows.length * ROW_H;
  }
  if (r.slack) {
    const s = r.slack;
    const rows: Row[] = [
      { label: '/access ack p50', value: s.commandAck.p50Ms, color: COLORS.slack },
      { label: '/access ack p99', value: s.commandAck.p99Ms, color: COLORS.slack, target: 100 },
      { label: 'Approve ack p50', value: s.approveAck.p50Ms, color: COLORS.slack },
      { label: 'Approve ack p99', value: s.approveAck.p99Ms, color: COLORS.slack, target: 100 },
      { label: 'approve → usable (worst)', value: s.approveToUsable.maxMs, color: COLORS.slack, target: 250 },
      { label: 'revoke click → refused (worst)', value: s.revoke.clickToRefusedMaxMs, color: COLORS.slack },
      { label: 'token exp → refused', value: s.expiry.refusedAfterExpMs, color: COLORS.slack, target: 1000 },
      {
        label: 'expiry → final Slack message',
        value: s.expiry.finalMessageAfterExpiryMs,
        color: COLORS.slack,
      },
    ];
    parts.push(
      panel(
        10,
        y,
        width - 20,
        `Slack side, ${s.users} concurrent users (ms; dashed line: target)`,
        rows,
        (v) => `${v.toFixed(0)} ms`,
      ),
    );
    y += 40 + rows.length * ROW_H;
  }
  const m = r.machine;
  parts.push(
    `<text x="10" y="${y}" font-size="11" fill="#555" ${FONT}>${esc(`${r.mode} run ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC · ${m.cpus} × ${m.cpuModel} · Node ${m.node} · Redis ${m.redis ?? '?'} · ${r.timing.connections} connections, ${r.timing.rounds} round(s) of ${r.timing.runSec} s`)}</text>`,
  );
  const height = y + 15;
  const title =
    'jitgate benchmarks: proxy throughput and p99 against direct and bare proxy, scale, Slack latencies';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${title}">
<title>${title}</title>
<rect width="100%" height="100%" fill="#fff"/>
${parts.join('\n')}
</svg>
`;
}
