import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Clock } from '../../shared/clock.js';
import type { SignInConfig } from '../../shared/config.js';
import { JitgateError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { Policy } from '../../shared/policy/index.js';
import type { RedisKeys } from '../../shared/redis/keys.js';
import type { SigningKeys } from '../../shared/tokens/index.js';
import type { SignInContext } from './context.js';
import { CALLBACK_PATH } from './cookies.js';
import { bareHost } from './hosts.js';
import { createIdp } from './idp.js';
import { browserSignIn, liveSessionOf, registerSignIn } from './routes.js';
import { createSessionReader, hasEnded, type Session, sessionEndedKey } from './session.js';

/**
 * Identity at the proxy: sign-in with an OpenID provider (Sign in with Slack, or any IdP matched by
 * verified e-mail), sessions in sealed host-only cookies, logout, and the handoff of a session to a
 * host-routed resource's own host.
 *
 * Seams for the gate: `sessionOf(req)` verifies the cookie (no Redis) and says who it is or why
 * not; `endedKey(session)` is the Redis key to GET in the same round trip as the person's grants,
 * and `hasEnded(reply)` reads it.
 *
 * @module
 */
export { isHolder, type Person, personFrom } from './person.js';
export { hasEnded, type Session, type SessionOf, type SessionRefusal, sessionEndedKey } from './session.js';

export interface SignInDeps {
  config: SignInConfig;
  /** JITGATE_PUBLIC_URL: sign-in happens on its host; cookies are Secure and `__Host-` when https. */
  publicUrl: string;
  keys: SigningKeys;
  clock: Clock;
  redis: Redis;
  redisKeys: RedisKeys;
  policy: () => Policy;
  log: Logger;
}

/**
 * @example
 *   const signIn = createSignIn({ config: signInConfig(config)!, publicUrl, keys, clock, redis, redisKeys, policy, log });
 *   signIn.register(router); app.use(signIn.browserSignIn); // before the proxied routes
 *   const found = await signIn.sessionOf(req);
 */
export function createSignIn(deps: SignInDeps) {
  const publicUrl = new URL(deps.publicUrl);
  const cookies = { secure: publicUrl.protocol === 'https:' };
  const issuer = deps.publicUrl;
  const sessionOf = createSessionReader({ keys: deps.keys, issuer, cookies, clock: deps.clock });
  const ctx: SignInContext = {
    idp: createIdp({
      issuer: deps.config.issuer,
      clientId: deps.config.clientId,
      clientSecret: readSecret(deps.config.clientSecret),
      scopes: deps.config.scopes,
      redirectUri: new URL(CALLBACK_PATH, publicUrl).href,
    }),
    publicUrl,
    signInHost: bareHost(publicUrl.host),
    issuer,
    keys: deps.keys,
    cookies,
    clock: deps.clock,
    redis: deps.redis,
    redisKeys: deps.redisKeys,
    policy: deps.policy,
    sessionTtlMs: deps.config.sessionTtlMs,
    matchBy: deps.config.matchBy,
    sessionOf,
    log: deps.log,
  };
  return {
    sessionOf,
    endedKey: (session: Pick<Session, 'sid'>) => sessionEndedKey(deps.redisKeys, session),
    hasEnded,
    /** sessionOf plus the logout check, in its own Redis call (for routes off the hot path). */
    liveSessionOf: (req: Parameters<typeof sessionOf>[0]) => liveSessionOf(ctx, req),
    register: (router: Parameters<typeof registerSignIn>[0]) => registerSignIn(router, ctx),
    browserSignIn: browserSignIn(ctx),
    /** Discovers the IdP now, so that a wrong issuer shows in the log at start (sign-in retries later). */
    warmUp: () =>
      ctx.idp
        .warmUp()
        .catch((err: unknown) =>
          deps.log.warn({ err, issuer: deps.config.issuer }, 'sign-in: discovery failed'),
        ),
  };
}

export type SignIn = ReturnType<typeof createSignIn>;

/** The client secret, or the content of the file it names (a path: starts with / or ./). */
export function readSecret(value: string): string {
  if (!/^\.{0,2}\//.test(value)) return value;
  try {
    const text = readFileSync(value, 'utf8').trim();
    if (text !== '') return text;
  } catch {
    // Reported below without echoing anything but the path.
  }
  throw new JitgateError(
    'config_invalid',
    `JITGATE_OIDC_CLIENT_SECRET names a file that cannot be read or is empty (${value}); set the secret itself or a readable file.`,
    {},
  );
}
