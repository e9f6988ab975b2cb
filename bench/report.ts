import type { Timing } from './context.js';
import type { Machine } from './machine.js';
import type { MemoryResult } from './scenarios/memory.js';
import type { PostgresResult } from './scenarios/postgres.js';
import type { ProxyCostResult, RoundTrips } from './scenarios/proxy-cost.js';
import type { ScaleResult } from './scenarios/scale.js';
import type { SigninCostResult } from './scenarios/signin-cost.js';
import type { SlackResult } from './scenarios/slack.js';
import type { VerifierResult } from './scenarios/verifier.js';

/** Everything one run measured: what bench/results.json holds. */
export interface Results {
  machine: Machine;
  mode: 'quick' | 'full';
  timing: Timing;
  startedAt: string;
  durationSec?: number;
  proxy?: ProxyCostResult;
  signin?: SigninCostResult;
  verifier?: VerifierResult;
  scale?: ScaleResult;
  memory?: MemoryResult;
  slack?: SlackResult;
  postgres?: PostgresResult;
  summary?: TargetCheck[];
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

const ms = (us: number) => `${(us / 1000).toFixed(2)} ms`;
const x = (r: number) => (Number.isNaN(r) ? '–' : `${r.toFixed(2)}×`);

/** Each target against this run's figures (only those the run measured). */
export function summarize(r: Results): TargetCheck[] {
  const out: TargetCheck[] = [];
  if (r.postgres) {
    const p = r.postgres;
    out.push({
      target: 'pgbench -S through the PostgreSQL gateway ≥ 0.8 × straight to PostgreSQL',
      measured: `${x(p.tpsRatio)} (median of ${p.direct.length} interleaved rounds, ${p.clients} clients); connection set-up ${p.connect.gatewayMs.toFixed(2)} ms through the gateway, ${p.connect.directMs.toFixed(2)} ms direct`,
      met: p.tpsRatio >= 0.8,
    });
  }
  if (r.proxy) {
    const { ratios, roundTrips } = r.proxy;
    const both = (a: number, b: number) => [a, b].filter((v) => !Number.isNaN(v));
    const rps = both(ratios.jitgateOverBareRps, ratios.cookieOverBareRps);
    const p99 = both(ratios.jitgateOverBareP99, ratios.cookieOverBareP99);
    const cpu = both(ratios.jitgateOverBareCpu, ratios.cookieOverBareCpu ?? Number.NaN);
    if (rps.length > 0) {
      out.push({
        target: 'jitgate throughput ≥ 1.5 × bare Express + http-proxy-middleware, bearer and cookie',
        measured: `${x(ratios.jitgateOverBareRps)} (bearer), ${x(ratios.cookieOverBareRps)} (cookie)`,
        met: Math.min(...rps) >= 1.5,
      });
      out.push({
        target: 'proxy CPU per request ≤ 0.65 × bare, bearer and cookie',
        measured: `${x(ratios.jitgateOverBareCpu)} (bearer), ${x(ratios.cookieOverBareCpu ?? Number.NaN)} (cookie)`,
        met: cpu.length === 2 && Math.max(...cpu) <= 0.65,
      });
      out.push({
        target: 'jitgate p99 ≤ 1.0 × bare, bearer and cookie',
        measured: `${ratios.jitgateOverBareP99.toFixed(3)}× (bearer), ${ratios.cookieOverBareP99.toFixed(3)}× (cookie)`,
        met: Math.max(...p99) <= 1.0,
      });
    }
    if (ratios.jitgateOverMinimalRps !== undefined && !Number.isNaN(ratios.jitgateOverMinimalRps)) {
      out.push({
        target: 'jitgate / minimal node:http proxy ≥ 0.5 (throughput); jitgate / nginx reported',
        measured: `${x(ratios.jitgateOverMinimalRps)}; jitgate / nginx ${Number.isNaN(ratios.jitgateOverNginxRps ?? Number.NaN) ? 'not measured (no nginx)' : x(ratios.jitgateOverNginxRps)}`,
        met: ratios.jitgateOverMinimalRps >= 0.5,
      });
    }
    if (!Number.isNaN(ratios.nginxAuthOverBareRps)) {
      const fwd = r.proxy.variants.find((v) => v.name === 'nginx-auth');
      out.push({
        target: 'nginx auth_request → jitgate forward-auth throughput ≥ 2 × bare proxy',
        measured: `${x(ratios.nginxAuthOverBareRps)} bare; ${x(ratios.nginxAuthOverNginxRps)} nginx alone; nginx + jitgate CPU ${fwd?.cpuUsPerRequest.toFixed(0)} µs per request`,
        met: ratios.nginxAuthOverBareRps >= 2,
      });
    }
    if (roundTrips.length > 0) {
      const t = tripsVerdict(roundTrips);
      out.push({
        target: '1.00 Redis reads per authorized request',
        measured: t.measured,
        met: t.onPath <= 1.005,
      });
    }
  }
  if (r.slack) {
    const s = r.slack;
    out.push({
      target: 'ack p99 < 100 ms at 50 concurrent users',
      measured: `/access ${s.commandAck.p99Ms.toFixed(0)} ms, Approve ${s.approveAck.p99Ms.toFixed(0)} ms`,
      met: s.commandAck.p99Ms < 100 && s.approveAck.p99Ms < 100,
    });
    out.push({
      target: 'approve → token usable < 250 ms',
      measured: `median ${s.approveToUsable.p50Ms.toFixed(0)} ms, worst ${s.approveToUsable.maxMs.toFixed(0)} ms`,
      met: s.approveToUsable.maxMs < 250,
    });
    out.push({
      target: 'revoke → refused on the next request',
      measured: `${s.revoke.nextRequestRefused}/${s.revoke.trials} next requests refused; Slack click → first refusal ${s.revoke.clickToRefusedP50Ms.toFixed(0)} ms`,
      met: s.revoke.nextRequestRefused === s.revoke.trials,
    });
    out.push({
      target: "expiry refused within 1 s of the token's exp",
      measured: `${s.expiry.refusedAfterExpMs.toFixed(0)} ms after exp; final Slack message ${s.expiry.finalMessageAfterExpiryMs.toFixed(0)} ms after expiry`,
      met: s.expiry.refusedAfterExpMs <= 1000,
    });
  }
  if (r.memory) {
    const live = liveState(r.memory);
    out.push({
      target: '≤ 1 KiB Redis memory per active grant',
      measured: `${r.memory.keysPerGrant.toFixed(0)} B for everything a grant keeps in Redis while active; ${live.toFixed(0)} B of it is the live state (grant hash and index entries)`,
      met: r.memory.keysPerGrant <= 1024,
    });
  }
  if (r.scale) {
    out.push({
      target: 'throughput with 100,000 grants within 5% of 10',
      measured: `${x(r.scale.largestOverSmallestRps)} (p99 ${x(r.scale.largestOverSmallestP99)}; authorizer CPU per request ${x(r.scale.largestOverSmallestCpu)})`,
      met: r.scale.largestOverSmallestRps >= 0.95,
    });
  }
  return out;
}

/**
 * Round trips per authorized request. Redis's own count (INFO commandstats) is server-wide: when
 * other clients ran the same commands meanwhile, it reads higher than the authorizer's own count,
 * and the authorizer's count is the one to judge by (both are shown).
 */
function tripsVerdict(trips: RoundTrips[]): { onPath: number; measured: string } {
  const worst = (f: (t: RoundTrips) => number) => Math.max(...trips.map(f));
  const server = worst((t) => t.onPathPerRequest);
  const client = worst((t) => (t.clientSent.hmget ?? 0) / t.authorized);
  const polluted = server > client * 1.01;
  const onPath = polluted ? client : server;
  const all = polluted ? worst((t) => t.perRequestClient) : worst((t) => t.perRequest);
  return {
    onPath,
    measured:
      `${onPath.toFixed(3)} on the request's path (HMGET), ${all.toFixed(3)} with the batched usage writes, worst run; ` +
      (polluted
        ? `the authorizer's own count (Redis's, ${server.toFixed(3)}, included other clients' commands)`
        : `INFO commandstats (the authorizer's own count agrees: ${client.toFixed(3)})`),
  };
}

/** What an active grant needs to be checked and listed: its live hash and its index entries. */
export function liveState(m: MemoryResult): number {
  return (m.byKind['live grant hash'] ?? 0) + (m.byKind['indexes (sorted sets)'] ?? 0);
}

/** A plain-text table with right-aligned numbers. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** The same as a Markdown table (for BENCHMARKS.md); columns of figures are right-aligned. */
export function markdownTable(headers: string[], rows: (string | number)[][]): string {
  const figure = /^([\s*]*[–-][\s*]*|[\s*–-]*[\d.,]+\s*(%|×|ms|µs|B)?[\s*]*)$/;
  const sep = headers.map((_, i) =>
    i > 0 && rows.every((r) => r[i] === undefined || r[i] === '' || figure.test(String(r[i])))
      ? '---:'
      : '---',
  );
  return [headers, sep, ...rows.map((r) => r.map(String))].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function proxyRows(p: ProxyCostResult): (string | number)[][] {
  return p.variants.map((v) => [
    v.label,
    v.rps.toFixed(0),
    ms(v.p50Us),
    ms(v.p99Us),
    v.cpuUsPerRequest > 0 ? `${v.cpuUsPerRequest.toFixed(0)} µs` : '',
    `${(v.expectedShare * 100).toFixed(1)}%`,
  ]);
}

export function printReport(r: Results): void {
  const m = r.machine;
  console.log(
    `\nMachine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, Redis ${m.redis}, ${r.mode} run (${r.timing.rounds} round(s) of ${r.timing.runSec} s, ${r.timing.connections} connections)`,
  );
  if (r.proxy) {
    console.log('\n1. Proxy cost (medians over rounds)\n');
    console.log(
      table(['variant', 'req/s', 'p50', 'p99', 'proxy CPU/req', 'expected status'], proxyRows(r.proxy)),
    );
    const q = r.proxy.ratios;
    console.log(
      `\njitgate/bare: throughput ${x(q.jitgateOverBareRps)}, p99 ${x(q.jitgateOverBareP99)}; cookie/bare: ${x(q.cookieOverBareRps)}, p99 ${x(q.cookieOverBareP99)}; bare/direct: throughput ${x(q.bareOverDirectRps)}, p99 ${x(q.bareOverDirectP99)}; uncached/cached ${x(q.uncachedOverCachedRps)}; proxy CPU per request jitgate/bare ${x(q.jitgateOverBareCpu)} (cookie ${x(q.cookieOverBareCpu ?? Number.NaN)}); jitgate without access log/bare ${x(q.quietOverBareRps)}; jitgate/minimal node proxy ${x(q.jitgateOverMinimalRps ?? Number.NaN)}; jitgate/nginx ${x(q.jitgateOverNginxRps ?? Number.NaN)}; minimal/bare ${x(q.minimalOverBareRps ?? Number.NaN)}; nginx/bare ${x(q.nginxOverBareRps ?? Number.NaN)}` +
        (Number.isNaN(q.nginxAuthOverBareRps)
          ? ''
          : `; nginx auth_request → jitgate (forward-auth)/bare ${x(q.nginxAuthOverBareRps)}, /nginx alone ${x(q.nginxAuthOverNginxRps)}`),
    );
    console.log('\n2. Redis round trips per authorized request\n');
    console.log(
      table(
        [
          'run',
          'authorized',
          'on path/req',
          'all sent/req (Redis)',
          'all sent/req (client)',
          'Redis commands/req',
          'sent',
        ],
        r.proxy.roundTrips.map((t) => [
          t.variant,
          t.authorized,
          t.onPathPerRequest.toFixed(4),
          t.perRequest.toFixed(4),
          t.perRequestClient.toFixed(4),
          t.redisCommandsPerRequest.toFixed(4),
          JSON.stringify(t.clientSent),
        ]),
      ),
    );
  }
  if (r.postgres) console.log(`\n${postgresText(r.postgres)}`);
  if (r.verifier) {
    const v = r.verifier;
    console.log(
      `\nVerification cache: a first verification ${v.missUs.toFixed(1)} µs, a cached one ${v.hitUs.toFixed(2)} µs (${(v.missUs / v.hitUs).toFixed(0)}× less); stats ${JSON.stringify(v.stats)}`,
    );
  }
  if (r.scale) {
    console.log('\n3. Scale of state\n');
    console.log(
      table(
        ['active grants', 'req/s', 'p50', 'p99'],
        r.scale.sizes.map((s) => [
          s.activeGrants.toLocaleString('en-US'),
          s.rps.toFixed(0),
          ms(s.p50Us),
          ms(s.p99Us),
        ]),
      ),
    );
    const mem = r.scale.memory;
    console.log(
      `\nBulk grants: used_memory ${mem.usedMemoryPerGrant.toFixed(0)} B/grant, live hash ${mem.grantHashBytes.join('/')} B, active index ${mem.activeIndexBytesPerGrant.toFixed(0)} B/grant`,
    );
  }
  if (r.memory) {
    console.log(`\nRedis memory per real grant (${r.memory.grants} minted through AccessService)\n`);
    console.log(
      table(
        ['kind of key', 'bytes/grant'],
        [
          ...Object.entries(r.memory.byKind)
            .sort((a, b) => b[1] - a[1])
            .map(([k, v]) => [k, v.toFixed(0)]),
          ['total (MEMORY USAGE)', r.memory.keysPerGrant.toFixed(0)],
          ['used_memory growth', r.memory.usedMemoryPerGrant.toFixed(0)],
        ],
      ),
    );
  }
  if (r.slack) {
    const s = r.slack;
    const lat = (l: { samples: number; p50Ms: number; p99Ms: number }) => [
      l.samples,
      `${l.p50Ms.toFixed(1)} ms`,
      `${l.p99Ms.toFixed(1)} ms`,
    ];
    console.log(
      `\n4. Slack side (${s.users} concurrent users; bot event-loop delay p99 ${s.botLoopDelay.p99Ms.toFixed(0)} ms, max ${s.botLoopDelay.maxMs.toFixed(0)} ms; other processes ${s.foreignCores.toFixed(2)} cores)\n`,
    );
    console.log(
      table(
        ['measure', 'samples', 'p50', 'p99 / worst'],
        [
          ['/access ack (as Slack sees it)', ...lat(s.commandAck)],
          ['Approve ack (as Slack sees it)', ...lat(s.approveAck)],
          ['/access ack, bot server side', ...lat(s.commandAckServer)],
          ['Approve ack, bot server side', ...lat(s.approveAckServer)],
          ['client floor (instant server)', ...lat(s.clientFloor)],
          [
            'approve click → first 200',
            s.approveToUsable.samples.length,
            `${s.approveToUsable.p50Ms.toFixed(1)} ms`,
            `${s.approveToUsable.maxMs.toFixed(1)} ms`,
          ],
          [
            'revoke click → first refusal',
            s.revoke.trials,
            `${s.revoke.clickToRefusedP50Ms.toFixed(1)} ms`,
            `${s.revoke.clickToRefusedMaxMs.toFixed(1)} ms`,
          ],
          ['expiry (exp) → first refusal', 1, `${s.expiry.refusedAfterExpMs.toFixed(0)} ms`, ''],
          ['expiry → final chat.update', 1, `${s.expiry.finalMessageAfterExpiryMs.toFixed(0)} ms`, ''],
        ],
      ),
    );
  }
  if (r.summary && r.summary.length > 0) {
    console.log('\nTargets\n');
    console.log(
      table(
        ['target', 'measured', 'met'],
        r.summary.map((t) => [t.target, t.measured, t.met ? 'met' : 'MISSED']),
      ),
    );
  }
}

/** The PostgreSQL gateway's figures in a few sentences (the console and BENCHMARKS.md). */
export function postgresText(p: PostgresResult): string {
  const tps = (runs: { tps: number }[]) => runs.map((r) => r.tps.toFixed(0)).join(', ');
  return [
    `PostgreSQL gateway: pgbench -S, ${p.clients} clients, ${p.runSec} s per run: straight to PostgreSQL ${tps(p.direct)} tps; through the gateway ${tps(p.gateway)} tps; gateway/direct ${x(p.tpsRatio)} (median of per-round ratios).`,
    `Gateway CPU per relayed transaction: ${p.gatewayCpuUsPerTx.toFixed(0)} µs (statement logged).`,
    `Connection set-up (connect, SELECT 1, disconnect; median of ${p.connect.samples}): ${p.connect.directMs.toFixed(2)} ms direct, ${p.connect.gatewayMs.toFixed(2)} ms through the gateway (+${(p.connect.gatewayMs - p.connect.directMs).toFixed(2)} ms: token check, grant read, upstream login; ${p.connect.gatewayCpuMs.toFixed(2)} ms of gateway CPU).`,
    `pgbench -S -C (a new connection per transaction): ${p.connectEach.direct.tps.toFixed(0)} tps direct, ${p.connectEach.gateway.tps.toFixed(0)} tps through the gateway.`,
  ].join('\n');
}
