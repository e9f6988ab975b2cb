/**
 * The results of a run as Markdown, written into BENCHMARKS.md between its `results` markers, so
 * that the figures there are the ones in bench/results.json and never copied by hand.
 *
 * @example npx tsx bench/markdown.ts   (after a run; `npm run bench -- --update-doc` does it too)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { liveState, markdownTable, postgresText, type Results, summarize } from './report.js';

const ms = (v: number, digits = 1) => `${v.toFixed(digits)} ms`;
const x = (r: number) => (Number.isNaN(r) ? '–' : `${r.toFixed(2)}×`);
const n = (v: number) => Math.round(v).toLocaleString('en-US');

export function resultsMarkdown(r: Results): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    `Run of ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${r.mode} mode (${r.timing.rounds} interleaved rounds of ${r.timing.runSec} s after ${r.timing.warmupSec} s of warm-up, ${r.timing.connections} connections), ${Math.round(r.durationSec ?? 0)} s in all, on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, Redis ${m.redis}.`,
  );
  const summary = summarize(r);
  if (summary.length > 0) {
    out.push('\n### Targets\n');
    out.push(
      markdownTable(
        ['target', 'measured', ''],
        summary.map((t) => [t.target, t.measured, t.met ? '**met**' : '**missed**']),
      ),
    );
  }
  if (r.proxy) {
    const p = r.proxy;
    const others = p.variants.flatMap((v) => v.rounds.map((x) => x.foreignCores ?? 0));
    out.push('\n### 1. Proxy cost\n');
    out.push(
      markdownTable(
        ['run (median of rounds)', 'req/s', 'p50', 'p99', 'proxy CPU / request', 'expected status'],
        p.variants.map((v) => [
          v.label,
          n(v.rps),
          ms(v.p50Us / 1000, 2),
          ms(v.p99Us / 1000, 2),
          v.cpuUsPerRequest > 0 ? `${n(v.cpuUsPerRequest)} µs` : '–',
          `${(v.expectedShare * 100).toFixed(1)} %`,
        ]),
      ),
    );
    const q = p.ratios;
    out.push(
      `\nRatios (median of the per-round ratios): jitgate/bare throughput **${x(q.jitgateOverBareRps)}** (cookie ${x(q.cookieOverBareRps)}), p99 **${x(q.jitgateOverBareP99)}** (cookie ${x(q.cookieOverBareP99)}); bare/direct throughput ${x(q.bareOverDirectRps)}, p99 ${x(q.bareOverDirectP99)}; proxy CPU per request jitgate/bare ${x(q.jitgateOverBareCpu)} (cookie ${x(q.cookieOverBareCpu ?? Number.NaN)}); jitgate/minimal node:http proxy ${x(q.jitgateOverMinimalRps ?? Number.NaN)}, jitgate/nginx ${x(q.jitgateOverNginxRps ?? Number.NaN)}, minimal/bare ${x(q.minimalOverBareRps ?? Number.NaN)}, nginx/bare ${x(q.nginxOverBareRps ?? Number.NaN)}; jitgate without its access log/bare ${x(q.quietOverBareRps)}; verification cache defeated/cached ${x(q.uncachedOverCachedRps)}${Number.isNaN(q.nginxAuthOverBareRps) ? '' : `; nginx with auth_request to jitgate's /_jitgate/auth (forward-auth)/bare **${x(q.nginxAuthOverBareRps)}**, /nginx alone ${x(q.nginxAuthOverNginxRps)}`}. Other processes kept ${Math.min(...others).toFixed(2)}–${Math.max(...others).toFixed(2)} cores busy during these runs.`,
    );
    out.push('\n### 2. Redis round trips per authorized request\n');
    const runs = [...new Set(p.roundTrips.map((t) => t.variant))];
    const worst = (xs: number[]) => Math.max(...xs).toFixed(4);
    out.push(
      markdownTable(
        [
          'run (worst of its rounds)',
          'authorized requests',
          'HMGET / request',
          'all sent / request (Redis)',
          'all sent / request (authorizer)',
          'Redis commands executed / request',
        ],
        runs.map((variant) => {
          const ts = p.roundTrips.filter((t) => t.variant === variant);
          return [
            variant,
            n(ts.reduce((a, t) => a + t.authorized, 0)),
            worst(ts.map((t) => t.onPathPerRequest)),
            worst(ts.map((t) => t.perRequest)),
            worst(ts.map((t) => t.perRequestClient)),
            worst(ts.map((t) => t.redisCommandsPerRequest)),
          ];
        }),
      ),
    );
    out.push(
      `\nWhat the authorizer sent, all rounds: ${runs
        .map((variant) => {
          const sent: Record<string, number> = {};
          for (const t of p.roundTrips.filter((x) => x.variant === variant))
            for (const [k, v] of Object.entries(t.clientSent)) sent[k] = (sent[k] ?? 0) + v;
          return `${variant}: ${Object.entries(sent)
            .map(([k, v]) => `${k} ${n(v)}`)
            .join(', ')}`;
        })
        .join(
          '; ',
        )}. The EVALSHAs are the usage recorder's (\`access.allowed\`: first use of a grant at once, then counts every 5 s), not per request.`,
    );
  }
  if (r.postgres)
    out.push(`\n### PostgreSQL gateway\n\n${postgresText(r.postgres).split('\n').join('\n\n')}`);
  if (r.verifier) {
    const v = r.verifier;
    out.push(
      `\nSignature-verification cache: a first verification costs ${v.missUs.toFixed(0)} µs, a cached one ${v.hitUs.toFixed(1)} µs (${(v.missUs / v.hitUs).toFixed(0)}× less); verifier stats after the measurement ${JSON.stringify(v.stats)}.`,
    );
  }
  if (r.scale) {
    const s = r.scale;
    out.push('\n### 3. Scale of state\n');
    out.push(
      markdownTable(
        ['active grants in Redis', 'req/s', 'p50', 'p99', 'proxy CPU / request'],
        s.sizes.map((z) => [
          n(z.activeGrants),
          n(z.rps),
          ms(z.p50Us / 1000, 2),
          ms(z.p99Us / 1000, 2),
          `${n(z.cpuUsPerRequest)} µs`,
        ]),
      ),
    );
    out.push(
      `\n100,000 over 10 grants (median of per-round ratios): throughput ${x(s.largestOverSmallestRps)}, p99 ${x(s.largestOverSmallestP99)}, authorizer CPU per request ${x(s.largestOverSmallestCpu)}. Bulk-written grants: used_memory grows ${n(s.memory.usedMemoryPerGrant)} B per grant; MEMORY USAGE of a live grant hash ${s.memory.grantHashBytes.join(' / ')} B; the \`active\` index ${n(s.memory.activeIndexBytesPerGrant)} B per entry.`,
    );
  }
  if (r.memory) {
    const mem = r.memory;
    out.push(
      `\nMemory per grant made the real way (${n(mem.grants)} grants: request, approval message ref, approve, redeem, first use):\n`,
    );
    out.push(
      markdownTable(
        ['kind of key', 'bytes per grant'],
        [
          ...Object.entries(mem.byKind)
            .sort((a, b) => b[1] - a[1])
            .map(([k, v]) => [k, n(v)]),
          ['**total (MEMORY USAGE of every key)**', `**${n(mem.keysPerGrant)}**`],
          ['live state (grant hash + index entries)', n(liveState(mem))],
          ['used_memory growth', n(mem.usedMemoryPerGrant)],
        ],
      ),
    );
  }
  if (r.slack) {
    const s = r.slack;
    const row = (label: string, l: { samples: number; p50Ms: number; p99Ms: number }) => [
      label,
      String(l.samples),
      ms(l.p50Ms),
      ms(l.p99Ms),
    ];
    out.push(`\n### 4. Slack side (${s.users} concurrent users)\n`);
    out.push(
      markdownTable(
        ['measure', 'samples', 'p50', 'p99 (or worst)'],
        [
          row('`/access` ack, as Slack sees it', s.commandAck),
          row('Approve ack, as Slack sees it', s.approveAck),
          row('`/access` ack, bot server side', s.commandAckServer),
          row('Approve ack, bot server side', s.approveAckServer),
          row('client floor (same burst to a server that answers at once)', s.clientFloor),
          [
            'approve click → token usable (redeem + first 200)',
            String(s.approveToUsable.samples.length),
            ms(s.approveToUsable.p50Ms),
            ms(s.approveToUsable.maxMs),
          ],
          [
            'revoke click → first refused request',
            String(s.revoke.trials),
            ms(s.revoke.clickToRefusedP50Ms),
            ms(s.revoke.clickToRefusedMaxMs),
          ],
          ['token `exp` → first refused request', '1', ms(s.expiry.refusedAfterExpMs, 0), ''],
          ['grant expiry (ms) → first refused request', '1', ms(s.expiry.refusedAfterExpiryMs, 0), ''],
          [
            'grant expiry → final Slack message (chat.update "Expired at")',
            '1',
            ms(s.expiry.finalMessageAfterExpiryMs, 0),
            '',
          ],
        ],
      ),
    );
    out.push(
      `\nApprove → usable, median parts: click → redeem DM at Slack ${ms(s.approveToUsable.parts.clickToDmMs)}, redeem ${ms(s.approveToUsable.parts.redeemMs)}, first proxied request ${ms(s.approveToUsable.parts.firstRequestMs)}. Revocations: ${s.revoke.nextRequestRefused}/${s.revoke.trials} first requests after the commit refused, ${s.revoke.allowedAfterCommit} allowed after it. Expiry (${s.expiry.grantMs / 1000} s grant): last allowed request sent ${ms(s.expiry.lastAllowedBeforeExpiryMs)} before the expiry. The bot's event loop was held up to ${ms(s.botLoopDelay.maxMs, 0)} (p99 ${ms(s.botLoopDelay.p99Ms, 0)}) during the bursts; the last request of a burst was read ${ms(s.lastReadMs.command, 0)} (\`/access\`) and ${ms(s.lastReadMs.approve, 0)} (Approve) after the first. Other processes kept ${s.foreignCores.toFixed(2)} cores busy.`,
    );
  }
  return out.join('\n');
}

const START = '<!-- results:start -->';
const END = '<!-- results:end -->';

/** Replaces what stands between the markers in BENCHMARKS.md with these results. */
export async function updateDoc(r: Results): Promise<void> {
  const path = new URL('../BENCHMARKS.md', import.meta.url);
  const doc = await readFile(path, 'utf8');
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from === -1 || to === -1) throw new Error(`BENCHMARKS.md has no ${START} … ${END} section`);
  await writeFile(path, `${doc.slice(0, from + START.length)}\n\n${resultsMarkdown(r)}\n\n${doc.slice(to)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = JSON.parse(await readFile(new URL('./results.json', import.meta.url), 'utf8')) as Results;
  await updateDoc(results);
  console.log('BENCHMARKS.md updated from bench/results.json');
}
