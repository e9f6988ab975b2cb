import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AccessDeps,
  approveRequest,
  redeemGrant,
  requestAccess,
  revokeGrant,
} from '../../shared/access/index.js';
import { systemClock } from '../../shared/clock.js';
import type { SlackUserId } from '../../shared/ids.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import {
  createAccessTokenVerifier,
  generateSigningKeySet,
  loadSigningKeys,
  type SigningKeys,
} from '../../shared/tokens/index.js';
import { REDIS_TARGET, type TestRedis, testRedis } from '../support/redis.js';
import { closeUseCaseDeps, redeemUrlOf, useCaseDeps } from '../support/use-cases.js';

/** Redeeming a one-time link, as a use case: real Redis, real signed tokens, no HTTP. */

const ISSUER = 'https://access.example.com';
const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS }
resources:
  grafana:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0ALICE] }
  admin:
    upstream: http://127.0.0.1:3002
    match: { host: admin.example.com }
    approvers: { users: [U0ALICE] }
`);
const DEV = 'U0DEV' as SlackUserId;
const ALICE = 'U0ALICE' as SlackUserId;

describe('redeeming a link', () => {
  let t: TestRedis;
  let deps: AccessDeps;
  let keys: SigningKeys;
  const queue = connectRedisForQueue(REDIS_TARGET);
  beforeAll(async () => {
    keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
  });
  afterAll(() => queue.disconnect());
  beforeEach(async () => {
    t = await testRedis();
    deps = useCaseDeps(t, queue, { policy: () => policy, publicUrl: ISSUER });
  });
  afterEach(() => closeUseCaseDeps(deps, t));

  const redeemDeps = () => ({ ...deps, keys, issuer: ISSUER });
  async function link(resource = 'grafana') {
    const { request } = await requestAccess(deps, { user: DEV, email: 'd@x', resource, reason: 'INC-1' });
    const approved = await approveRequest(deps, request.id, ALICE);
    return {
      grantId: approved.request.grantId!,
      code: new URL(redeemUrlOf(approved)!).searchParams.get('code')!,
    };
  }

  it('when a code is redeemed, then it gives a token for its grant, once', async () => {
    const { grantId, code } = await link();
    const redeemed = await redeemGrant(redeemDeps(), { code });
    expect(redeemed).toMatchObject({ next: 'token', grant: { id: grantId, user: DEV }, effects: [] });
    if (redeemed.next !== 'token') throw new Error('expected a token');
    const claims = await createAccessTokenVerifier({ keys, issuer: ISSUER, clock: systemClock }).verify(
      redeemed.token,
      'grafana',
    );
    expect(claims).toMatchObject({ sub: DEV, gid: grantId });
    await expect(redeemGrant(redeemDeps(), { code })).rejects.toMatchObject({ code: 'code_used' });
  });

  it('when a browser opens a host-routed resource’s link on another host, then it is handed a fresh code for that host', async () => {
    const { code } = await link('admin');
    const first = await redeemGrant(redeemDeps(), { code, browserHost: 'access.example.com' });
    expect(first).toMatchObject({ next: 'hand-over', host: 'admin.example.com' });
    if (first.next !== 'hand-over') throw new Error('expected a hand-over');
    expect(first.code).not.toBe(code);
    const second = await redeemGrant(redeemDeps(), { code: first.code, browserHost: 'admin.example.com' });
    expect(second.next).toBe('token');
  });

  it('when a browser opens the link of a pathPrefix resource without browser: shared-origin, then it is for the command line and the code stays usable', async () => {
    const { grantId, code } = await link('grafana');
    const browser = await redeemGrant(redeemDeps(), { code, browserHost: 'access.example.com' });
    expect(browser).toMatchObject({ next: 'command-line', pathPrefix: '/grafana', grant: { id: grantId } });
    expect(browser).not.toHaveProperty('token');
    const cli = await redeemGrant(redeemDeps(), { code });
    expect(cli).toMatchObject({ next: 'token', grant: { id: grantId } });
  });

  it('when the grant was revoked, then its link gives nothing', async () => {
    const { grantId, code } = await link();
    await revokeGrant(deps, grantId, DEV);
    await expect(redeemGrant(redeemDeps(), { code })).rejects.toMatchObject({ code: 'grant_not_active' });
  });

  it('when the code is not one jitgate made, then it is unknown', async () => {
    await expect(redeemGrant(redeemDeps(), { code: 'A'.repeat(32) })).rejects.toMatchObject({
      code: 'code_unknown',
    });
  });
});
