import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clientResolver } from '../../authorizer/checks/client-address.js';
import { httpChecks } from '../../authorizer/checks/http.js';
import { createGate } from '../../authorizer/gate.js';
import { createMetrics } from '../../authorizer/metrics.js';
import { publicAddresses } from '../../authorizer/proxy/public-address.js';
import { createRefusalRecorder } from '../../authorizer/refusal-records.js';
import { statusFor } from '../../authorizer/refusals.js';
import { createUsageRecorder } from '../../authorizer/usage.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import type { SlackUserId } from '../../shared/ids.js';
import { createLogger } from '../../shared/log.js';
import {
  createAccessTokenVerifier,
  createAssertionSigner,
  generateSigningKeySet,
  loadSigningKeys,
  type SigningKeys,
  signAccessToken,
} from '../../shared/tokens/index.js';
import { type TestRedis, testRedis } from '../support/redis.js';
import { newRequestInput } from '../support/requests.js';
import { ISSUER, policy } from './authorizer-checks-fixtures.js';

let keys: SigningKeys;
let t: TestRedis;
let store: AccessStore;

beforeAll(async () => {
  keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
});
beforeEach(async () => {
  t = await testRedis();
  store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
});
afterEach(() => t.cleanup());

function gateWith(leaveOut?: string) {
  const log = createLogger('gate-test', 'silent');
  const verifier = createAccessTokenVerifier({ keys, issuer: ISSUER, clock: systemClock });
  const checks = httpChecks({
    policy: () => policy,
    verifier,
    store: store.queries,
    clock: systemClock,
  }).filter((check) => check.name !== leaveOut);
  const metrics = createMetrics({ countActiveGrants: () => store.queries.countActiveGrants(), log });
  return createGate({
    checks,
    resolveClient: clientResolver([]),
    publicAddress: publicAddresses(ISSUER),
    assertions: createAssertionSigner({ keys, issuer: ISSUER, clock: systemClock }),
    metrics,
    usage: createUsageRecorder({ store, log, clock: systemClock, flushEveryMs: 60_000 }),
    refusals: createRefusalRecorder({
      redis: t.redis,
      keys: store.keys,
      store,
      clock: systemClock,
      log,
      metrics,
      flushEveryMs: 60_000,
    }),
    log,
  });
}

/** A request as the HTTP server would hand it over, from 127.0.0.1, with alice's editor token. */
async function editorRequest(): Promise<IncomingMessage> {
  const input = newRequestInput({ role: 'editor' });
  await store.transitions.createRequest(input);
  const { decision } = await store.transitions.approve(input.id, 'U0BOSS' as SlackUserId);
  if (decision.outcome !== 'granted') throw new Error(`not granted: ${decision.outcome}`);
  const token = await signAccessToken(
    keys,
    {
      issuer: ISSUER,
      grantId: decision.grantId,
      user: input.requester,
      email: input.email,
      resource: 'grafana',
      role: 'editor',
      expiresAt: decision.expiresAt,
    },
    systemClock,
  );
  const req = new IncomingMessage(new Socket());
  Object.defineProperty(req.socket, 'remoteAddress', { value: '127.0.0.1' });
  req.method = 'POST';
  req.url = '/grafana/api/dashboards';
  req.headers = { host: '127.0.0.1:8080', authorization: `Bearer ${token}` };
  return req;
}

describe('the HTTP gate', () => {
  it('when every check passes, then the request is rewritten for its upstream: identity headers, no token, the stripped path', async () => {
    const req = await editorRequest();
    const result = await gateWith()(req, false);
    expect(result.ok).toBe(true);
    expect(req.headers['x-jit-user']).toBe('U0ALICE');
    expect(req.headers['x-jit-role']).toBe('editor');
    expect(req.headers.authorization).toBeUndefined();
    expect(req.url).toBe('/api/dashboards');
  });

  it('when the list leaves out the grant check, then the gate refuses (500) instead of trusting it, and the request is untouched', async () => {
    const req = await editorRequest();
    const result = await gateWith('grant')(req, false);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.refusal.code).toBe('internal_error');
    expect(statusFor(result.refusal.code)).toBe(500);
    expect(result.decision).toMatchObject({
      decision: 'deny',
      reason: 'internal_error',
      resource: 'grafana',
    });
    expect(req.headers['x-jit-user']).toBeUndefined();
    expect(req.url).toBe('/grafana/api/dashboards');
  });
});
