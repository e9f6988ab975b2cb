import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { Policy } from '../../shared/policy/index.js';
import type { RedisClient } from '../../shared/redis/connect.js';
import type { RedisKeys } from '../../shared/redis/keys.js';
import type { SigningKeys } from '../../shared/tokens/index.js';
import type { CookieJarRules } from './cookies.js';
import type { Idp } from './idp.js';
import type { SessionDeps, SessionOf } from './session.js';

/** Everything sign-in's routes share, built once by createSignIn. */
export interface SignInContext extends SessionDeps {
  idp: Idp;
  publicUrl: URL;
  /** The public URL's bare host: where sign-in happens. */
  signInHost: string;
  keys: SigningKeys;
  cookies: CookieJarRules;
  clock: Clock;
  redis: RedisClient;
  redisKeys: RedisKeys;
  policy: () => Policy;
  sessionTtlMs: number;
  matchBy: 'slack' | 'email';
  sessionOf: (req: Pick<IncomingMessage, 'headers'>) => Promise<SessionOf>;
  log: Logger;
}
