import type { Authorizer } from '../../authorizer/server.js';
import { systemClock } from '../../shared/clock.js';
import type { SignInConfig } from '../../shared/config.js';
import { AccessStore, grantIdOf, type NewRequest } from '../../shared/grants/store.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import { createLogger } from '../../shared/log.js';
import { loadPolicy, type Policy } from '../../shared/policy/index.js';
import { generateSigningKeySet, loadSigningKeys, type SigningKeys } from '../../shared/tokens/index.js';
import { startSystem } from '../../system/start.js';
import { CookieBrowser } from './cookie-browser.js';
import { startOidcProvider, type TestIdp, type TestUser } from './oidc-provider.js';
import { REDIS_TARGET, type TestRedis, testRedis } from './redis.js';
import { newRequestInput } from './requests.js';
import { type EchoUpstream, startEchoUpstream } from './upstreams.js';

/** The sign-in host and a host-routed resource's host; a CookieBrowser maps both to the authorizer. */
export const ACCESS_HOST = 'access.test.local';
export const HOSTED_HOST = 'hosted.test.local';

export interface SignInHarness {
  publicUrl: string;
  policy: Policy;
  idp: TestIdp;
  authorizer: Authorizer;
  keys: SigningKeys;
  store: AccessStore;
  test: TestRedis;
  echo: EchoUpstream;
  authorizerPort: number;
  /** A fresh browser (empty cookie jar) that reaches the authorizer by its virtual hosts. */
  browser(): CookieBrowser;
  /**
   * A grant minted through the real store's transitions (auto-approved): alice's (U0ALICE,
   * alice@example.com) on `hosted` with role `access` unless `over` says otherwise.
   */
  grant(over?: Partial<NewRequest>): Promise<{ gid: GrantId; expiresAt: number }>;
  close(): Promise<void>;
}

/**
 * An authorizer with sign-in on, in front of an echo upstream, signing in at a real OpenID provider
 * started on loopback. The public URL is `<scheme>://access.test.local` (no port); `app` is routed
 * by path prefix (bearer tokens only), `hosted` by host (hosted.test.local), `shared` by path prefix
 * with `browser: shared-origin` and two roles (viewer: GET and HEAD; editor: anything under /api/).
 */
export async function startSignInHarness(
  options: {
    users: TestUser[];
    matchBy?: SignInConfig['matchBy'];
    scheme?: 'http' | 'https';
    sessionTtlMs?: number;
    /** More resources, as policy YAML indented under `resources:` (e.g. a WebSocket upstream's). */
    extraResources?: string;
    /** Sign in at this issuer instead of the harness's own provider (which then only serves as a spare). */
    issuer?: { url: string; clientId: string; clientSecret: string };
    /** JITGATE_TRUSTED_PROXIES (default none): an ingress asking /_jitgate/auth must be one. */
    trustedProxies?: string[];
  } = { users: [] },
): Promise<SignInHarness> {
  const publicUrl = `${options.scheme ?? 'http'}://${ACCESS_HOST}`;
  const idp = await startOidcProvider({
    redirectUris: [`${publicUrl}/_jitgate/oauth2/callback`],
    users: options.users,
  });
  const [echo, test, keys] = await Promise.all([
    startEchoUpstream(),
    testRedis(),
    generateSigningKeySet().then((set) => loadSigningKeys(JSON.stringify(set))),
  ]);
  const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 1h }
resources:
  app:
    upstream: ${echo.url}
    match: { pathPrefix: /app }
    approvers: { users: [U0BOSS] }
  hosted:
    upstream: ${echo.url}
    match: { host: ${HOSTED_HOST} }
    approvers: { users: [U0BOSS] }
  shared:
    upstream: ${echo.url}
    match: { pathPrefix: /shared }
    browser: shared-origin
    approvers: { users: [U0BOSS] }
    roles:
      viewer: { methods: [GET, HEAD] }
      editor: { methods: ["*"], paths: ["/api/**"] }
${options.extraResources ?? ''}`);
  const store = new AccessStore(test.redis, { prefix: test.prefix, clock: systemClock });
  // The authorizer as `npm run start:authorizer` starts it, signing in at the harness's provider.
  const system = await startSystem({
    roles: ['authorizer'],
    overrides: {
      redisUrl: REDIS_TARGET,
      redis: test.redis,
      prefix: test.prefix,
      policy,
      signingKeys: keys,
      publicUrl,
      trustedProxies: options.trustedProxies ?? [],
      log: createLogger('signin-test', 'silent'),
      authorizerPort: 0,
      authorizerHost: '127.0.0.1',
      authorizerTimings: { upstreamTimeoutMs: 2_000, usageFlushMs: 200, shutdownGraceMs: 500 },
      signIn: {
        ...idp.signInConfig({
          ...(options.matchBy ? { matchBy: options.matchBy } : {}),
          ...(options.sessionTtlMs !== undefined ? { sessionTtlMs: options.sessionTtlMs } : {}),
        }),
        // Another issuer in front (the crafted IdP of the token attacks) replaces this one's client.
        ...(options.issuer
          ? {
              issuer: options.issuer.url,
              clientId: options.issuer.clientId,
              clientSecret: options.issuer.clientSecret,
            }
          : {}),
      },
    },
  });
  const { authorizer, port } = system.authorizer!;
  return {
    publicUrl,
    policy,
    idp,
    authorizer,
    keys,
    store,
    test,
    echo,
    authorizerPort: port,
    browser: () => new CookieBrowser({ [ACCESS_HOST]: port, [HOSTED_HOST]: port }),
    async grant(over = {}) {
      const r = newRequestInput({
        requester: 'U0ALICE' as SlackUserId,
        email: 'alice@example.com',
        resource: 'hosted',
        role: 'access',
        ...over,
      });
      const { decision } = await store.transitions.createRequest(r, 'jitgate');
      if (decision.outcome !== 'granted') throw new Error(`not granted: ${decision.outcome}`);
      return { gid: grantIdOf(r.id), expiresAt: decision.expiresAt };
    },
    async close() {
      await system.stop();
      await Promise.all([idp.close(), echo.close()]);
      await test.cleanup();
    },
  };
}
