import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../shared/clock.js';
import type { SignInConfig } from '../../shared/config.js';
import { JitgateError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { Policy } from '../../shared/policy/index.js';
import type { RedisClient } from '../../shared/redis/connect.js';
import type { RedisKeys } from '../../shared/redis/keys.js';
import type { SigningKeys } from '../../shared/tokens/index.js';
import type { SignInContext } from './context.js';
import { CALLBACK_PATH } from './cookies.js';
import { bareHost } from './hosts.js';
import { createIdp } from './idp.js';
import { startSignIn } from './login.js';
import { liveSessionOf, registerSignIn, signInInstead, signInThenBack } from './routes.js';
import { createSessionOpener } from './session.js';

/**
 * Identity at the proxy: sign-in with an OpenID provider (Sign in with Slack, or any IdP matched by
 * verified e-mail), sessions in sealed host-only cookies, logout, and the handoff of a session to a
 * host-routed resource's own host.
 *
 * Seams for the gate: `openSession(cookieHeader, host)` (or `sessionOf(req)`) verifies the cookie
 * (no Redis) and says who it is or why not; the gate's session check (checks/session.ts) then reads
 * the person's grants and the session's logout key in one round trip; `sendToSignIn` answers a
 * browser whose request the gate refused for want of a session.
 *
 * @module
 */
export { isHolder, type Person, personFrom } from './person.js';
export {
  endedSessionOf,
  hasEnded,
  type Session,
  type SessionOf,
  type SessionRefusal,
  sessionEndedKey,
} from './session.js';

export interface SignInDeps {
  config: SignInConfig;
  /** JITGATE_PUBLIC_URL: sign-in happens on its host; cookies are Secure and `__Host-` when https. */
  publicUrl: string;
  keys: SigningKeys;
  clock: Clock;
  redis: RedisClient;
  redisKeys: RedisKeys;
  policy: () => Policy;
  log: Logger;
}

/**
 * @example
 *   const signIn = createSignIn({ config: signInConfig(config)!, publicUrl, keys, clock, redis, redisKeys, policy, log });
 *   signIn.register(router);
 *   const checks = httpChecks({ ..., signIn: { openSession: signIn.openSession, store } });
 *   if (refused.signInNeeded && (await signIn.sendToSignIn(req, res))) return;
 */
export function createSignIn(deps: SignInDeps) {
  const publicUrl = new URL(deps.publicUrl);
  const cookies = { secure: publicUrl.protocol === 'https:' };
  const issuer = deps.publicUrl;
  const openSession = createSessionOpener({ keys: deps.keys, issuer, cookies, clock: deps.clock });
  const sessionOf = async (req: Pick<IncomingMessage, 'headers'>) =>
    openSession(req.headers.cookie, req.headers.host);
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
    /** The same from a Cookie header and a Host (the gate's session check; cached, no Redis). */
    openSession,
    /** sessionOf plus the logout check, in its own Redis call (for routes off the hot path). */
    liveSessionOf: (req: Parameters<typeof sessionOf>[0]) => liveSessionOf(ctx, req),
    register: (router: Parameters<typeof registerSignIn>[0]) => registerSignIn(router, ctx),
    /** After the gate refused a request for want of a session: a browser is sent to sign in (true). */
    sendToSignIn: signInInstead(ctx),
    /**
     * Sends a browser to sign in afresh at the IdP (max_age=0) and back to `path` on the sign-in
     * host; the session then carries `stepUpAt` (an approver's confirmation, approverStepUp).
     */
    startStepUp: (req: IncomingMessage, res: ServerResponse, path: string) =>
      startSignIn(ctx, req, res, { host: ctx.signInHost, path }, { stepUp: true }),
    /** Sends a browser to sign in and back to this URL (the redeem link's binding to its holder). */
    signInThenBack: signInThenBack(ctx),
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
