import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { csrfToken } from '../../authorizer/ask/csrf.js';
import { type AskDeps, createAsks } from '../../authorizer/ask/index.js';
import type { Session } from '../../authorizer/identity/session.js';
import { refusal } from '../../authorizer/refusals.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import { createLogger } from '../../shared/log.js';
import { loadPolicy } from '../../shared/policy/index.js';
import type { RedisClient } from '../../shared/redis/connect.js';
import { generateSigningKeySet, loadSigningKeys } from '../../shared/tokens/index.js';

/** Alice, signed in with a generic IdP, as the request form's routes see her. */
export const ASKING_SESSION: Session = {
  idp: 'http://idp',
  sub: 'alice',
  person: { kind: 'email', email: 'alice@example.com' },
  sid: 'sid-aaaaaaaaaaaaaaaaaaaaaa',
  host: '127.0.0.1',
  iat: 0,
  exp: 4_000_000_000,
};

const POLICY = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 30m, maxDuration: 2h }
resources:
  grafana:
    upstream: http://127.0.0.1:1
    match: { pathPrefix: /grafana }
    browser: shared-origin
    approvers: { users: [U0BOSS] }
`);

export interface AskFormServer {
  base: string;
  /** Posts the form for grafana as ASKING_SESSION, with a valid anti-forgery token and Origin. */
  post(): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The request form's routes alone (createAsks) over the Redis given, for ASKING_SESSION, on port 0:
 * a page that would be refused gets the form, or 418 "no form" when none is offered. For tests of how
 * the form behaves when what it relies on (Redis, the queue) fails.
 */
export async function startAskFormServer(input: {
  redis: RedisClient;
  prefix: string;
  askFiled: AskDeps['scheduler']['askFiled'];
}): Promise<AskFormServer> {
  const keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
  const csrf = csrfToken(keys, ASKING_SESSION.sid);
  const asks = createAsks({
    liveSessionOf: async () => ASKING_SESSION,
    store: new AccessStore(input.redis, { prefix: input.prefix, clock: systemClock }),
    scheduler: { askFiled: input.askFiled },
    policy: () => POLICY,
    keys,
    publicUrl: 'http://127.0.0.1',
    clock: systemClock,
    log: createLogger('ask-form-test', 'silent'),
  });
  const app = express();
  const router = express.Router();
  asks.register(router);
  app.use(router);
  app.use(async (req, res) => {
    if (!(await asks.offer(req, res, refusal('no_grant'), ASKING_SESSION))) res.status(418).end('no form');
  });
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    post: () =>
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
      }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
