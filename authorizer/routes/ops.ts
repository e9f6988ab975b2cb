import type { Router } from 'express';
import type { RedisClient } from '../../shared/redis/connect.js';
import type { SigningKeys } from '../../shared/tokens/index.js';
import type { Metrics } from '../metrics.js';

/**
 * Operations endpoints, served on every host under /_jitgate: liveness, readiness (Redis answers
 * PING), Prometheus metrics and the public JWKS that verifies tokens and upstream assertions.
 */
export function registerOps(
  router: Router,
  deps: { redis: Pick<RedisClient, 'ping'>; metrics: Metrics; keys: SigningKeys; readyTimeoutMs?: number },
): void {
  router.get('/_jitgate/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  router.get('/_jitgate/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    try {
      await withTimeout(deps.redis.ping(), deps.readyTimeoutMs ?? 1_000);
      res.json({ status: 'ready', redis: 'ok' });
    } catch {
      res.status(503).json({ status: 'unavailable', redis: 'unreachable' });
    }
  });

  router.get('/_jitgate/metrics', async (_req, res) => {
    const body = await deps.metrics.registry.metrics();
    res.set('Cache-Control', 'no-store').type(deps.metrics.registry.contentType).send(body);
  });

  const jwks = JSON.stringify(deps.keys.publicJwks());
  router.get('/_jitgate/jwks.json', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').type('application/jwk-set+json').send(jwks);
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
