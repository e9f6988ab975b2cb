import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfToken } from '../../authorizer/ask/csrf.js';
import { createAsks } from '../../authorizer/ask/index.js';
import type { Session } from '../../authorizer/identity/session.js';
import { refusal } from '../../authorizer/refusals.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import { createLogger } from '../../shared/log.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { connectRedis } from '../../shared/redis/connect.js';
import { generateSigningKeySet, loadSigningKeys } from '../../shared/tokens/index.js';

const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 30m, maxDuration: 2h }
resources:
  grafana:
    upstream: http://127.0.0.1:1
    match: { pathPrefix: /grafana }
    browser: shared-origin
    approvers: { users: [U0BOSS] }
`);

describe('the request form with Redis away (fail closed)', () => {
  // Nothing listens on port 1: every command fails at once, as with Redis down.
  const redis = connectRedis('redis://127.0.0.1:1', { retryStrategy: () => null });
  redis.on('error', () => {});
  const queued: unknown[] = [];
  let server: Server;
  let base: string;
  let csrf: string;
  const session: Session = {
    idp: 'http://idp',
    sub: 'alice',
    person: { kind: 'email', email: 'alice@example.com' },
    sid: 'sid-aaaaaaaaaaaaaaaaaaaaaa',
    host: '127.0.0.1',
    iat: 0,
    exp: 4_000_000_000,
  };

  beforeAll(async () => {
    const keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
    csrf = csrfToken(keys, session.sid);
    const asks = createAsks({
      liveSessionOf: async () => session,
      store: new AccessStore(redis, { prefix: 'away', clock: systemClock }),
      scheduler: { askFiled: async (ask) => void queued.push(ask) },
      policy: () => policy,
      keys,
      publicUrl: 'http://127.0.0.1',
      clock: systemClock,
      log: createLogger('ask-away', 'silent'),
    });
    const app = express();
    const router = express.Router();
    asks.register(router);
    app.use(router);
    app.use(async (req, res) => {
      if (!(await asks.offer(req, res, refusal('no_grant'), session)))
        res.status(418).end('refusal as before');
    });
    server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    redis.disconnect();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('when the form is posted, then it answers 503 and nothing is queued', async () => {
    const res = await fetch(`${base}/_jitgate/ask`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: new URLSearchParams({
        csrf,
        resource: 'grafana',
        return: '/grafana/',
        role: '',
        duration: '',
        reason: 'INC-1',
      }),
    });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('nothing was sent');
    expect(queued).toEqual([]);
  });

  it('when the status is asked for, then it answers 503 JSON', async () => {
    const res = await fetch(`${base}/_jitgate/ask/status?resource=grafana&id=r_aaaaaaaaaaaaaaaaaaaaaaaaaa`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'unavailable' });
  });

  it('when a refused page would offer the form, then the refusal is answered as before instead (no form without Redis)', async () => {
    const res = await fetch(`${base}/grafana/`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(418);
  });
});
