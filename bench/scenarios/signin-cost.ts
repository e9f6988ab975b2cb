import { newSessionId, sessionCookie } from '../../authorizer/identity/session.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import { newRequestId, type SlackUserId } from '../../shared/ids.js';
import { signAccessToken } from '../../shared/tokens/index.js';
import type { BenchContext } from '../context.js';
import { median, medianFigures } from '../context.js';
import { type LoadResult, shareWithStatus } from '../load.js';
import { BENCH_ISSUER, BENCH_RESOURCE, BENCH_ROLE } from '../policy.js';
import { callsDelta, sum } from '../redis-stats.js';
import { targetCpu } from './proxy-cost.js';

/** People holding a grant each; the load goes round them, as the proxy scenario's hot grants do. */
const PEOPLE = 10;
const SESSION_COOKIE = 'jitgate_session';

export interface SigninFigures {
  name: 'bearer' | 'session';
  label: string;
  rps: number;
  p50Us: number;
  p99Us: number;
  /** CPU time of the authorizer's process per request (µs). */
  cpuUsPerRequest: number;
  /** Redis commands the authorizer sent per request the upstream served (client side). */
  commandsPerRequest: number;
  expectedShare: number;
  rounds: LoadResult[];
}

export interface SigninCostResult {
  variants: SigninFigures[];
  /** Per round, then the median: session over bearer. */
  ratios: { sessionOverBearerRps: number; sessionOverBearerP99: number; sessionOverBearerCpu: number };
}

/**
 * What a signed-in request costs against a token request, through the same authorizer (sign-in
 * on): the same people, each with a live grant filed through the real transitions (so the grant is
 * indexed for its person), reached once with their bearer tokens and once with their session
 * cookies, interleaved round by round. The session's path opens the sealed cookie (cached by its
 * text) and reads the person's grants and the logout key in one script call; the token's path
 * verifies the JWT (cached) and reads the live grant with one HMGET.
 */
export async function signinCost(ctx: BenchContext): Promise<SigninCostResult> {
  const url = `${await ctx.target.call<string>('startSignedIn')}/${BENCH_RESOURCE}/`;
  const store = new AccessStore(ctx.redis, { prefix: ctx.prefix, clock: systemClock });
  const tokens: string[] = [];
  const sessions: string[] = [];
  const nowSec = Math.floor(Date.now() / 1000);
  for (let i = 0; i < PEOPLE; i++) {
    const user = `U0SIGNIN${i}` as SlackUserId;
    const email = `signin.user${i}@example.com`;
    const { decision } = await store.transitions.createRequest(
      {
        id: newRequestId(),
        kind: 'access',
        requester: user,
        email,
        resource: BENCH_RESOURCE,
        role: BENCH_ROLE,
        durationMs: 3_600_000,
        reason: 'bench',
        breakGlass: false,
        approvalsRequired: 1,
        selfApproval: false,
        pendingTimeoutMs: 600_000,
      },
      'jitgate',
    );
    if (decision.outcome !== 'granted')
      throw new Error(`bench grant ${i} was not granted: ${decision.outcome}`);
    tokens.push(
      await signAccessToken(
        ctx.keys,
        {
          issuer: BENCH_ISSUER,
          grantId: decision.grantId,
          user,
          email,
          resource: BENCH_RESOURCE,
          role: BENCH_ROLE,
          expiresAt: decision.expiresAt,
        },
        systemClock,
      ),
    );
    const set = await sessionCookie(
      { keys: ctx.keys, issuer: BENCH_ISSUER, cookies: { secure: false }, clock: systemClock },
      {
        idp: 'http://127.0.0.1:9',
        sub: `signin-${i}`,
        person: { kind: 'slack', user, team: 'T0BENCH' },
        email,
        sid: newSessionId(),
        host: '127.0.0.1',
        iat: nowSec,
        exp: nowSec + 3_600,
      },
    );
    sessions.push(set.slice(`${SESSION_COOKIE}=`.length, set.indexOf(';')));
  }

  const variants = [
    {
      name: 'bearer' as const,
      label: 'sign-in on, bearer token',
      spec: { tokens, tokenIn: 'bearer' as const },
    },
    {
      name: 'session' as const,
      label: 'sign-in on, session cookie',
      spec: { tokens: sessions, tokenIn: 'cookie' as const, cookieName: SESSION_COOKIE },
    },
  ];
  const results = new Map<string, LoadResult[]>(variants.map((v) => [v.name, []]));
  const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const commands = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  // The authorizer was just started: both paths get one unmeasured run first (JIT, caches), so the
  // first measured variant does not pay for warming up the process alone.
  for (const v of variants) await ctx.load({ url, ...v.spec });
  for (let round = 1; round <= ctx.timing.rounds; round++) {
    for (const v of variants) {
      const [cpuBefore, sentBefore, servedBefore] = await Promise.all([
        targetCpu(ctx),
        ctx.target.call<Record<string, number>>('commandsSent'),
        ctx.upstream.call<number>('served'),
      ]);
      const r = await ctx.load({ url, ...v.spec });
      const [cpuAfter, sentAfter, servedAfter] = await Promise.all([
        targetCpu(ctx),
        ctx.target.call<Record<string, number>>('commandsSent'),
        ctx.upstream.call<number>('served'),
      ]);
      const cpuUs = (cpuAfter - cpuBefore) / (r.requests + r.warmupRequests);
      const perRequest = sum(callsDelta(sentBefore, sentAfter)) / Math.max(1, servedAfter - servedBefore);
      results.get(v.name)!.push(r);
      cpu.get(v.name)!.push(cpuUs);
      commands.get(v.name)!.push(perRequest);
      ctx.log(
        `round ${round} signin-${v.name.padEnd(8)} ${r.rps.toFixed(0).padStart(6)} req/s  p50 ${(r.latencyUs.p50 / 1000).toFixed(2)} ms  p99 ${(r.latencyUs.p99 / 1000).toFixed(2)} ms  cpu ${cpuUs.toFixed(0)} µs/req  redis ${perRequest.toFixed(2)} cmd/req  others ${r.foreignCores?.toFixed(2)} cores  ${JSON.stringify(r.statuses)}`,
      );
    }
  }

  const figures = variants.map((v): SigninFigures => {
    const rs = results.get(v.name)!;
    return {
      name: v.name,
      label: v.label,
      ...medianFigures(rs, cpu.get(v.name)!),
      commandsPerRequest: median(commands.get(v.name)!),
      expectedShare: Math.min(...rs.map((r) => shareWithStatus(r, [200]))),
    };
  });
  const ratio = (f: (r: LoadResult) => number) =>
    median(results.get('session')!.map((r, i) => f(r) / f(results.get('bearer')![i]!)));
  const cpuS = cpu.get('session')!;
  const cpuB = cpu.get('bearer')!;
  const result: SigninCostResult = {
    variants: figures,
    ratios: {
      sessionOverBearerRps: ratio((r) => r.rps),
      sessionOverBearerP99: ratio((r) => r.latencyUs.p99),
      sessionOverBearerCpu: median(cpuS.map((c, i) => c / cpuB[i]!)),
    },
  };
  for (const f of figures) {
    ctx.log(
      `signin ${f.label.padEnd(28)} ${f.rps.toFixed(0).padStart(6)} req/s  p50 ${(f.p50Us / 1000).toFixed(2)} ms  p99 ${(f.p99Us / 1000).toFixed(2)} ms  cpu ${f.cpuUsPerRequest.toFixed(0)} µs/req  redis ${f.commandsPerRequest.toFixed(2)} cmd/req  ok ${(f.expectedShare * 100).toFixed(1)}%`,
    );
  }
  ctx.log(
    `signin session/bearer: req/s ×${result.ratios.sessionOverBearerRps.toFixed(2)}, p99 ×${result.ratios.sessionOverBearerP99.toFixed(2)}, cpu/req ×${result.ratios.sessionOverBearerCpu.toFixed(2)}`,
  );
  return result;
}
