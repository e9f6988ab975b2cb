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
import { generateSigningKeySet, loadSigningKeys } from '../../shared/tokens/index.js';
import { type TestRedis, testRedis } from '../support/redis.js';

const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 30m, maxDuration: 2h }
resources:
  grafana:
    upstream: http://127.0.0.1:1
    match: { pathPrefix: /grafana }
    browser: shared-origin
    approvers: { users: [U0BOSS] }
`);

describe('the request form when its job cannot be queued (real Redis)', () => {
  let t: TestRedis;
  let server: Server;
  let base: string;
  let csrf: string;
  let queueUp = false;
  const queued: unknown[] = [];
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
    t = await testRedis();
    const keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
    csrf = csrfToken(keys, session.sid);
    const asks = createAsks({
      liveSessionOf: async () => session,
      store: new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock }),
      scheduler: {
        askFiled: async (ask) => {
          if (!queueUp) throw new Error('the queue cannot be reached');
          queued.push(ask);
        },
      },
      policy: () => policy,
      keys,
      publicUrl: 'http://127.0.0.1',
      clock: systemClock,
      log: createLogger('ask-queue-away', 'silent'),
    });
    const app = express();
    const router = express.Router();
    asks.register(router);
    app.use(router);
    app.use(async (req, res) => {
      if (!(await asks.offer(req, res, refusal('no_grant'), session))) res.status(418).end('no form');
    });
    server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await t.cleanup();
  });

  const post = () =>
    fetch(`${base}/_jitgate/ask`, {
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
      redirect: 'manual',
    });

  it('when the job is not queued, then the post answers 503, and the next visit offers the form again instead of a wait that never ends', async () => {
    const failed = await post();
    expect(failed.status).toBe(503);
    expect(await failed.text()).toContain('nothing was sent');
    const page = await fetch(`${base}/grafana/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(403);
    const html = await page.text();
    expect(html).toContain('<form');
    expect(html).not.toContain('Sending your request');

    queueUp = true;
    const sent = await post();
    expect(sent.status).toBeLessThan(400);
    expect(queued).toHaveLength(1);
  });
});
