import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AccessContext, type Check, isAuthorized, refuse } from '../../authorizer/checks/context.js';
import { type GrantReader, grantCheck } from '../../authorizer/checks/grant.js';
import { type HttpAccess, httpChecks } from '../../authorizer/checks/http.js';
import { networkCheck } from '../../authorizer/checks/network.js';
import { runChecks } from '../../authorizer/checks/run.js';
import { tokenCheck } from '../../authorizer/checks/token.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  generateSigningKeySet,
  loadSigningKeys,
  type SigningKeys,
  signAccessToken,
} from '../../shared/tokens/index.js';
import { type TestRedis, testRedis } from '../support/redis.js';
import { newRequestInput } from '../support/requests.js';
import { attempt, clientAt, ISSUER, NOTHING_LEARNED, policy } from './authorizer-checks-fixtures.js';

let keys: SigningKeys;
let verifier: AccessTokenVerifier;
let t: TestRedis;
let store: AccessStore;
let reads: number;
const reader: GrantReader = {
  liveGrant(grantId) {
    reads += 1;
    return store.queries.liveGrant(grantId);
  },
};

beforeAll(async () => {
  keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
  verifier = createAccessTokenVerifier({ keys, issuer: ISSUER, clock: systemClock });
});
beforeEach(async () => {
  t = await testRedis();
  store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
  reads = 0;
});
afterEach(() => t.cleanup());

/** Alice's approved grafana/editor grant and a real token for it. */
async function grantWithToken(): Promise<{ grantId: GrantId; token: string }> {
  const req = newRequestInput({ role: 'editor' });
  await store.transitions.createRequest(req);
  const { decision } = await store.transitions.approve(req.id, 'U0BOSS' as SlackUserId);
  if (decision.outcome !== 'granted') throw new Error(`not granted: ${decision.outcome}`);
  const token = await signAccessToken(
    keys,
    {
      issuer: ISSUER,
      grantId: decision.grantId,
      user: req.requester,
      email: req.email,
      resource: req.resource,
      role: req.role,
      expiresAt: decision.expiresAt,
    },
    systemClock,
  );
  return { grantId: decision.grantId, token };
}

const http = () => httpChecks({ policy: () => policy, verifier, store: reader, clock: systemClock });

describe('the list of checks', () => {
  it('when the HTTP list is built, then it is route, credential, token, grant, role, websocket, network, in that order', () => {
    expect(http().map((check) => check.name)).toEqual([
      'route',
      'credential',
      'token',
      'grant',
      'role',
      'websocket',
      'network',
    ]);
  });

  it('when a check refuses, then its refusal is the answer and no later check runs', async () => {
    const ran: string[] = [];
    const passes: Check = () => void ran.push('first');
    const refuses: Check = (ctx) => {
      ran.push('second');
      return refuse(ctx, 'network_not_allowed');
    };
    const never: Check = () => void ran.push('third');
    const refused = await runChecks([passes, refuses, never], attempt());
    expect(refused?.code).toBe('network_not_allowed');
    expect(ran).toEqual(['first', 'second']);
  });

  it('when an HTTP request brings a good bearer token, then every check passes, Redis is read once, and the attempt is authorized', async () => {
    const { grantId, token } = await grantWithToken();
    const ctx = attempt({ method: 'POST', target: '/grafana/api/x', authorization: `Bearer ${token}` });
    expect(await runChecks(http(), ctx)).toBeUndefined();
    expect(isAuthorized(ctx)).toBe(true);
    expect(ctx).toMatchObject({ grantId, upstreamPath: '/api/x', tokenFrom: 'bearer', roleName: 'editor' });
    expect(reads).toBe(1);
  });

  it('when the role refuses, then the network check does not run and Redis was read once', async () => {
    const { token } = await grantWithToken();
    const ctx = attempt({
      method: 'DELETE',
      target: '/grafana/admin',
      authorization: `Bearer ${token}`,
      client: clientAt(undefined),
    });
    expect((await runChecks(http(), ctx))?.code).toBe('method_not_allowed');
    expect(reads).toBe(1);
  });

  it('when a list leaves out the grant check, then nothing refuses but the attempt is not authorized (the gate refuses it)', async () => {
    const { token } = await grantWithToken();
    const withoutGrant = http().filter((check) => check.name !== 'grant');
    const ctx = attempt({ target: '/grafana/api/x', authorization: `Bearer ${token}` });
    expect(await runChecks(withoutGrant, ctx)).toBeUndefined();
    expect(isAuthorized(ctx)).toBe(false);
  });

  it('when sign-in stands in for the token (an identity from a session), then the grant, role and network checks judge it the same way', async () => {
    const { grantId } = await grantWithToken();
    // A stand-in for a session check: a signed-in person with a live grant for this resource.
    const session: Check<HttpAccess> = function session(ctx) {
      if (ctx.token !== undefined) return undefined;
      ctx.user = 'U0ALICE' as SlackUserId;
      ctx.email = 'alice@example.com';
      ctx.grantId = grantId;
      ctx.roleName = 'editor';
      return undefined;
    };
    const token = tokenCheck(verifier);
    const sessionOrToken: Check<HttpAccess> = (ctx) => (ctx.token === undefined ? session(ctx) : token(ctx));
    const list = http();
    list.splice(
      list.findIndex((check) => check.name === 'token'),
      1,
      sessionOrToken,
    );

    const allowed = attempt({ target: '/grafana/api/x' });
    expect(await runChecks(list, allowed)).toBeUndefined();
    expect(isAuthorized(allowed)).toBe(true);

    await store.transitions.revoke(grantId, 'U0BOSS' as SlackUserId);
    expect((await runChecks(list, attempt({ target: '/grafana/api/x' })))?.code).toBe('grant_revoked');
  });
});

/** A PostgreSQL startup message, as a database gateway would present it: no HTTP anywhere. */
interface DatabaseAccess extends AccessContext {
  readonly database: string;
}

const routeByDatabase: Check<DatabaseAccess> = function routeByDatabase(ctx) {
  const resource = policy.resources.get(ctx.database);
  if (!resource) return refuse(ctx, 'no_such_resource');
  ctx.resource = resource;
  ctx.upstreamPath = '/';
  return undefined;
};

function startup(database: string, password: string): DatabaseAccess {
  return {
    database,
    client: clientAt('10.9.8.7'),
    method: 'CONNECT',
    target: '/',
    websocket: false,
    token: password,
    ...NOTHING_LEARNED,
  };
}

describe('the list a database gateway would compose', () => {
  const gateway = (): Check<DatabaseAccess>[] => [
    routeByDatabase,
    tokenCheck(verifier),
    grantCheck({ store: reader, clock: systemClock }),
    networkCheck,
  ];

  it('when the password is a live access token for the database, then the shared checks authorize it with one Redis read', async () => {
    const { grantId, token } = await grantWithToken();
    const ctx = startup('grafana', token);
    expect(await runChecks(gateway(), ctx)).toBeUndefined();
    expect(isAuthorized(ctx)).toBe(true);
    expect(ctx.grantId).toBe(grantId);
    expect(reads).toBe(1);
  });

  it('when the grant behind the password was revoked, then grant_revoked, as over HTTP', async () => {
    const { grantId, token } = await grantWithToken();
    await store.transitions.revoke(grantId, 'U0BOSS' as SlackUserId);
    expect((await runChecks(gateway(), startup('grafana', token)))?.code).toBe('grant_revoked');
  });

  it('when the token is for another database, then wrong_resource before Redis is read', async () => {
    const { token } = await grantWithToken();
    expect((await runChecks(gateway(), startup('wiki', token)))?.code).toBe('wrong_resource');
    expect(reads).toBe(0);
  });
});
