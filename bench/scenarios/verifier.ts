import { performance } from 'node:perf_hooks';
import { systemClock } from '../../shared/clock.js';
import { createAccessTokenVerifier } from '../../shared/tokens/index.js';
import type { BenchContext } from '../context.js';
import { tokensFor } from '../grants.js';
import { BENCH_ISSUER, BENCH_RESOURCE } from '../policy.js';
import { HOT_GRANTS } from './proxy-cost.js';

export interface VerifierResult {
  /** Microseconds per verify() of a token seen for the first time (signature checked). */
  missUs: number;
  /** Microseconds per verify() of a token already verified (cache hit). */
  hitUs: number;
  stats: { hits: number; misses: number; size: number };
}

/**
 * What the verification cache saves, measured on the verifier itself (the authorizer's own, with
 * the same options): the time of a first verification (Ed25519 signature, claims) against that of
 * a repeated one. The proxy-level effect is the `jitgate-uncached` run of the proxy scenario.
 */
export async function verifierCost(ctx: BenchContext): Promise<VerifierResult> {
  const verifier = createAccessTokenVerifier({ keys: ctx.keys, issuer: BENCH_ISSUER, clock: systemClock });
  const count = ctx.quick ? 1_000 : 5_000;
  const expiresAt = Date.now() + 3_600_000;
  const fresh = await tokensFor(ctx.keys, HOT_GRANTS, expiresAt, count / HOT_GRANTS.length);
  // Warm up the code paths on tokens not measured.
  const warm = await tokensFor(ctx.keys, HOT_GRANTS, expiresAt, 20);
  for (const t of warm) await verifier.verify(t, BENCH_RESOURCE);

  let t0 = performance.now();
  for (const t of fresh) await verifier.verify(t, BENCH_RESOURCE);
  const missUs = ((performance.now() - t0) * 1000) / fresh.length;

  const repeats = count * 10;
  t0 = performance.now();
  for (let i = 0; i < repeats; i++) await verifier.verify(fresh[i % fresh.length]!, BENCH_RESOURCE);
  const hitUs = ((performance.now() - t0) * 1000) / repeats;

  const result = { missUs, hitUs, stats: verifier.stats() };
  ctx.log(
    `verifier: miss ${missUs.toFixed(1)} µs, hit ${hitUs.toFixed(2)} µs, ${JSON.stringify(result.stats)}`,
  );
  return result;
}
