import type { BenchContext } from '../context.js';
import { median, medianFigures } from '../context.js';
import { markRevoked, tokensFor, writeGrants } from '../grants.js';
import { type LoadResult, shareWithStatus } from '../load.js';
import { callsDelta, commandCalls, sum } from '../redis-stats.js';
import { startNginx } from '../servers/nginx.js';
import { haveNginx, NGINX_BIN, nginxCpuUs, startNginxAuth } from '../servers/nginx-auth.js';

/** Hot grants 0…9 carry the load; grant 10 is revoked; filler grants start at FIRST_FILLER. */
export const HOT_GRANTS = Array.from({ length: 10 }, (_, i) => i);
export const REVOKED_GRANT = 10;
export const FIRST_FILLER = 11;
/** More distinct tokens than the verifier's cache holds (10,000): every verification misses. */
const UNCACHED_TOKENS = 15_000;

export interface Variant {
  name: string;
  label: string;
  url: string;
  expect: number[];
  tokens?: string[];
  tokenIn?: 'bearer' | 'cookie';
  /** Rotation goes on from run to run instead of starting over (the uncached run must never repeat a token the cache still holds). */
  continueRotation?: boolean;
  /** CPU time (µs) so far of a process outside the target that serves this variant too (nginx in front). */
  alsoCpuOf?: () => number;
  /** CPU time (µs) so far of the process that serves this variant instead of the target (nginx alone). */
  cpuOf?: () => number;
}

export interface VariantFigures {
  name: string;
  label: string;
  rps: number;
  p50Us: number;
  p99Us: number;
  /** CPU time of the process under test per request (µs; the upstream's not included; 0 for direct). */
  cpuUsPerRequest: number;
  /** Share of responses with the expected status, worst round. */
  expectedShare: number;
  rounds: LoadResult[];
}

export interface RoundTrips {
  variant: string;
  /** Requests the upstream served in the window (each one authorized by jitgate). */
  authorized: number;
  /** Commands the authorizer's connection sent, by name (client side). */
  clientSent: Record<string, number>;
  /** INFO commandstats delta over the run (server-wide: includes commands run inside scripts). */
  serverDelta: Record<string, number>;
  /** Round trips on the request's own path (the live-grant HMGET), per authorized request. */
  onPathPerRequest: number;
  /** Every command the authorizer sent (background usage flushes included), per authorized request, as Redis counted them. */
  perRequest: number;
  /** The same from the authorizer's own count. */
  perRequestClient: number;
  /** Every command Redis executed per request (those inside scripts included). */
  redisCommandsPerRequest: number;
}

export interface ProxyCostResult {
  variants: VariantFigures[];
  /** Per round, then the median: jitgate (bearer) over bare, bare over direct. */
  ratios: {
    jitgateOverBareRps: number;
    jitgateOverBareP99: number;
    cookieOverBareRps: number;
    cookieOverBareP99: number;
    bareOverDirectRps: number;
    bareOverDirectP99: number;
    uncachedOverCachedRps: number;
    /** jitgate without its access log over bare. */
    quietOverBareRps: number;
    /** Proxy CPU per request, jitgate (bearer) over bare: what the throughput ratio would be if CPU were the only limit. */
    jitgateOverBareCpu: number;
    cookieOverBareCpu: number;
    /** jitgate (bearer) over the minimal node:http proxy, and over nginx (NaN when nginx is missing). */
    jitgateOverMinimalRps: number;
    jitgateOverNginxRps: number;
    minimalOverBareRps: number;
    nginxOverBareRps: number;
    /** nginx with auth_request to jitgate's /_jitgate/auth (forward-auth), over bare and over nginx alone (NaN when not run). */
    nginxAuthOverBareRps: number;
    nginxAuthOverNginxRps: number;
  };
  roundTrips: RoundTrips[];
  /** With --profile: each run's window on the profile's clock, for `profile-summary --breakdown`. */
  profileWindows?: ProfileWindow[];
}

export interface ProfileWindow {
  variant: string;
  fromUs: number;
  toUs: number;
  requests: number;
}

/**
 * Scenario 1 (and the proxy half of 2): the same small upstream reached directly, through the bare
 * proxy, and through jitgate (bearer, cookie, verification cache defeated, two kinds of refusal).
 * Every variant sends the same request bytes where it can (the bare proxy and the upstream get the
 * bearer header too), so the client's work is the same and only the server side differs.
 */
export async function proxyCost(ctx: BenchContext): Promise<ProxyCostResult> {
  const expiresAt = Date.now() + 3_600_000;
  await writeGrants(ctx.redis, ctx.prefix, 0, FIRST_FILLER, expiresAt);
  await markRevoked(ctx.redis, ctx.prefix, REVOKED_GRANT);
  const hot = await tokensFor(ctx.keys, HOT_GRANTS, expiresAt);
  const revoked = await tokensFor(ctx.keys, [REVOKED_GRANT], expiresAt);
  const started = Date.now();
  const uncached = await tokensFor(ctx.keys, HOT_GRANTS, expiresAt, UNCACHED_TOKENS / HOT_GRANTS.length);
  ctx.log(`signed ${uncached.length} tokens for the uncached run in ${Date.now() - started} ms`);

  const { bareUrl, minimalUrl, jitgateUrl, quietUrl } = ctx.target.info;
  const nginx = !ctx.variants || ctx.variants.includes('nginx') ? await startPlainNginx(ctx) : undefined;
  const nginxAuth =
    !ctx.variants || ctx.variants.includes('nginx-auth') ? await startForwardAuth(ctx) : undefined;
  const variants: Variant[] = [
    {
      name: 'direct',
      label: 'direct to upstream',
      url: `${ctx.upstream.info.url}/`,
      expect: [200],
      tokens: hot,
    },
    ...(nginx
      ? [
          {
            name: 'nginx',
            label: 'nginx as reverse proxy (1 worker)',
            url: `${nginx.url}/app/`,
            expect: [200],
            tokens: hot,
            cpuOf: () => nginxCpuUs(nginx.pid),
          },
        ]
      : []),
    {
      name: 'minimal',
      label: 'minimal node:http proxy',
      url: `${minimalUrl}/app/`,
      expect: [200],
      tokens: hot,
    },
    {
      name: 'bare',
      label: 'bare Express + http-proxy-middleware',
      url: `${bareUrl}/app/`,
      expect: [200],
      tokens: hot,
    },
    { name: 'jitgate', label: 'jitgate, bearer', url: `${jitgateUrl}/app/`, expect: [200], tokens: hot },
    {
      name: 'jitgate-quiet',
      label: 'jitgate, bearer, no access log (LOG_LEVEL=warn)',
      url: `${quietUrl}/app/`,
      expect: [200],
      tokens: hot,
    },
    {
      name: 'jitgate-cookie',
      label: 'jitgate, cookie',
      url: `${jitgateUrl}/app/`,
      expect: [200],
      tokens: hot,
      tokenIn: 'cookie',
    },
    {
      name: 'jitgate-uncached',
      label: 'jitgate, bearer, verification cache defeated',
      url: `${jitgateUrl}/app/`,
      expect: [200],
      tokens: uncached,
      continueRotation: true,
    },
    ...(nginxAuth
      ? [
          {
            name: 'nginx-auth',
            label: 'nginx, auth_request to jitgate /_jitgate/auth (forward-auth)',
            url: `${nginxAuth.url}/app/`,
            expect: [200],
            tokens: hot,
            alsoCpuOf: () => nginxCpuUs(nginxAuth.pid),
          },
        ]
      : []),
    {
      name: 'refused-no-token',
      label: 'jitgate, refused: no token (401)',
      url: `${jitgateUrl}/app/`,
      expect: [401],
    },
    {
      name: 'refused-revoked',
      label: 'jitgate, refused: revoked grant (401)',
      url: `${jitgateUrl}/app/`,
      expect: [401],
      tokens: revoked,
    },
  ];

  const chosen = ctx.variants ? variants.filter((v) => ctx.variants!.includes(v.name)) : variants;
  const results = new Map<string, LoadResult[]>(chosen.map((v) => [v.name, []]));
  const cpu = new Map<string, number[]>(chosen.map((v) => [v.name, []]));
  const roundTrips: RoundTrips[] = [];
  const offsets = new Map<string, number>();
  const windows: ProfileWindow[] = [];
  try {
    for (let round = 1; round <= ctx.timing.rounds; round++) {
      for (const v of chosen) {
        const measureTrips =
          v.name === 'jitgate' ||
          v.name === 'jitgate-cookie' ||
          v.name === 'jitgate-quiet' ||
          v.name === 'nginx-auth';
        const before = measureTrips ? await snapshot(ctx) : undefined;
        const alsoBefore = v.alsoCpuOf?.() ?? 0;
        const proxyCpu = async () => (v.cpuOf ? v.cpuOf() : (await targetCpu(ctx)) + (v.alsoCpuOf?.() ?? 0));
        const cpuBefore = await proxyCpu();
        const fromUs = ctx.profile ? await ctx.target.call<number>('profileClock') : 0;
        const r = await ctx.load({
          url: v.url,
          ...(v.tokens
            ? { tokens: v.tokens, tokenIn: v.tokenIn ?? 'bearer', cookieName: 'jitgate_app' }
            : {}),
          ...(v.continueRotation ? { tokenOffset: offsets.get(v.name) ?? 0 } : {}),
        });
        offsets.set(v.name, (offsets.get(v.name) ?? 0) + r.tokensUsed);
        if (ctx.profile) {
          const toUs = await ctx.target.call<number>('profileClock');
          windows.push({ variant: v.name, fromUs, toUs, requests: r.requests + r.warmupRequests });
        }
        const cpuUs =
          v.name === 'direct' ? 0 : ((await proxyCpu()) - cpuBefore) / (r.requests + r.warmupRequests);
        // The part of it that nginx in front used (forward-auth), for the log line.
        const alsoUs = v.alsoCpuOf
          ? (v.alsoCpuOf() - alsoBefore) / (r.requests + r.warmupRequests)
          : undefined;
        if (before) roundTrips.push(tripsOf(v.name, before, await snapshot(ctx)));
        results.get(v.name)!.push(r);
        cpu.get(v.name)!.push(cpuUs);
        ctx.log(
          `round ${round} ${v.name.padEnd(18)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${(r.latencyUs.p50 / 1000).toFixed(2)} ms  p99 ${(r.latencyUs.p99 / 1000).toFixed(2)} ms  cpu ${cpuUs.toFixed(0)} µs/req${alsoUs === undefined ? '' : ` (nginx ${alsoUs.toFixed(0)})`}  others ${r.foreignCores?.toFixed(2)} cores  ${JSON.stringify(r.statuses)}`,
        );
      }
    }
  } finally {
    await Promise.all([nginxAuth?.stop(), nginx?.stop()]);
  }

  const figures = chosen.map((v): VariantFigures => {
    const rs = results.get(v.name)!;
    return {
      name: v.name,
      label: v.label,
      ...medianFigures(rs, cpu.get(v.name)!),
      expectedShare: Math.min(...rs.map((r) => shareWithStatus(r, v.expect))),
    };
  });
  const perRound = (a: string, b: string, f: (r: LoadResult) => number) =>
    results.has(a) && results.has(b)
      ? median(results.get(a)!.map((r, i) => f(r) / f(results.get(b)![i]!)))
      : Number.NaN;
  const cpuRatio = (a: string, b: string) =>
    cpu.has(a) && cpu.has(b) ? median(cpu.get(a)!.map((c, i) => c / cpu.get(b)![i]!)) : Number.NaN;
  const rps = (r: LoadResult) => r.rps;
  const p99 = (r: LoadResult) => r.latencyUs.p99;
  return {
    variants: figures,
    ratios: {
      jitgateOverBareRps: perRound('jitgate', 'bare', rps),
      jitgateOverBareP99: perRound('jitgate', 'bare', p99),
      cookieOverBareRps: perRound('jitgate-cookie', 'bare', rps),
      cookieOverBareP99: perRound('jitgate-cookie', 'bare', p99),
      bareOverDirectRps: perRound('bare', 'direct', rps),
      bareOverDirectP99: perRound('bare', 'direct', p99),
      uncachedOverCachedRps: perRound('jitgate-uncached', 'jitgate', rps),
      jitgateOverBareCpu: cpuRatio('jitgate', 'bare'),
      cookieOverBareCpu: cpuRatio('jitgate-cookie', 'bare'),
      jitgateOverMinimalRps: perRound('jitgate', 'minimal', rps),
      jitgateOverNginxRps: perRound('jitgate', 'nginx', rps),
      minimalOverBareRps: perRound('minimal', 'bare', rps),
      nginxOverBareRps: perRound('nginx', 'bare', rps),
      quietOverBareRps: perRound('jitgate-quiet', 'bare', rps),
      nginxAuthOverBareRps: perRound('nginx-auth', 'bare', rps),
      nginxAuthOverNginxRps: perRound('nginx-auth', 'nginx', rps),
    },
    roundTrips,
    ...(ctx.profile ? { profileWindows: windows } : {}),
  };
}

/**
 * nginx with auth_request in front of the same upstream, asking a jitgate of the target process
 * (trusting 127.0.0.1) at /_jitgate/auth; undefined, said in the log, when nginx is not installed.
 */
async function startForwardAuth(ctx: BenchContext) {
  if (!haveNginx()) {
    ctx.log(`no nginx at ${NGINX_BIN} (apt-get install nginx): the forward-auth run is left out`);
    return undefined;
  }
  const jitgateUrl = await ctx.target.call<string>('startForwardAuth');
  const nginx = await startNginxAuth({ upstreamUrl: ctx.upstream.info.url, jitgateUrl });
  ctx.pids.add(nginx.pid);
  return nginx;
}

/** nginx alone in front of the same upstream, for reference; undefined, said in the log, without nginx. */
async function startPlainNginx(ctx: BenchContext) {
  if (!haveNginx()) {
    ctx.log(`no nginx at ${NGINX_BIN} (apt-get install nginx): the nginx reference run is left out`);
    return undefined;
  }
  const nginx = await startNginx(ctx.upstream.info.url);
  ctx.pids.add(nginx.pid);
  return nginx;
}

/** CPU time (µs) the process under test has used so far. */
export async function targetCpu(ctx: BenchContext): Promise<number> {
  const { user, system } = await ctx.target.call<{ user: number; system: number }>('cpu');
  return user + system;
}

interface Snapshot {
  server: Record<string, number>;
  client: Record<string, number>;
  served: number;
}

async function snapshot(ctx: BenchContext): Promise<Snapshot> {
  const [server, client, served] = await Promise.all([
    commandCalls(ctx.redis),
    ctx.target.call<Record<string, number>>('commandsSent'),
    ctx.upstream.call<number>('served'),
  ]);
  return { server, client, served };
}

/**
 * Divides by what the upstream served in the window (autocannon does not count the requests still
 * in flight when it stops, which the authorizer did check). The snapshots bracket the whole
 * load() call, warm-up included.
 */
function tripsOf(variant: string, before: Snapshot, after: Snapshot): RoundTrips {
  const clientSent = callsDelta(before.client, after.client);
  const serverDelta = callsDelta(before.server, after.server);
  // INFO itself is ours (the snapshot), not the authorizer's.
  delete serverDelta.info;
  const authorized = after.served - before.served;
  return {
    variant,
    authorized,
    clientSent,
    serverDelta,
    onPathPerRequest: (serverDelta.hmget ?? 0) / authorized,
    perRequest: sum(serverDelta, Object.keys(clientSent)) / authorized,
    perRequestClient: sum(clientSent) / authorized,
    redisCommandsPerRequest: sum(serverDelta) / authorized,
  };
}
