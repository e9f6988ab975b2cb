import { systemClock } from '../shared/clock.js';
import { type Config, signInConfig } from '../shared/config.js';
import { JitgateError } from '../shared/errors.js';
import { AccessStore } from '../shared/grants/store.js';
import { livePolicy } from '../shared/lifecycle.js';
import { auditToLog, type Logger } from '../shared/log.js';
import { connectRedis } from '../shared/redis/connect.js';
import { loadSigningKeys } from '../shared/tokens/index.js';
import { type Authorizer, createAuthorizer } from './server.js';

export interface AuthorizerProcess {
  authorizer: Authorizer;
  port: number;
  /** Re-reads the policy file; a bad file is reported and the current policy stays. */
  reloadPolicy(): void;
  /** Stops the authorizer (in-flight requests finish), then closes Redis. */
  stop(): Promise<void>;
}

const NO_KEYS =
  'JITGATE_SIGNING_KEYS is not set. The authorizer signs and verifies access tokens with it.\n' +
  'Generate a key set with `npm run keys -- generate` and set JITGATE_SIGNING_KEYS to the JSON it\n' +
  'prints (or to the path of a file holding it). The bot and every authorizer must share it.';

/**
 * The authorizer with everything it needs, from a parsed configuration: policy file, signing keys,
 * Redis, store. `npm run start:authorizer` runs it alone; `npm start` can run it beside the bot.
 * Installs no signal handlers: the caller owns the process.
 *
 * @example const proc = await startAuthorizerProcess(loadConfig(process.env), log); await proc.stop();
 */
export async function startAuthorizerProcess(config: Config, log: Logger): Promise<AuthorizerProcess> {
  if (!config.JITGATE_SIGNING_KEYS) throw new JitgateError('config_invalid', NO_KEYS, {});
  const policy = livePolicy(config.JITGATE_POLICY, log);
  const keys = await loadSigningKeys(config.JITGATE_SIGNING_KEYS);
  const redis = connectRedis(config.REDIS_URL);
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis: connection error'));
  const store = new AccessStore(redis, {
    prefix: config.JITGATE_REDIS_PREFIX,
    clock: systemClock,
    auditSink: auditToLog(log),
  });
  const authorizer = createAuthorizer({
    publicUrl: config.JITGATE_PUBLIC_URL,
    trustedProxies: config.JITGATE_TRUSTED_PROXIES,
    policy: policy.current,
    store,
    redis,
    keys,
    clock: systemClock,
    log,
    signIn: signInConfig(config),
  });
  void authorizer.signIn?.warmUp();
  let address: Awaited<ReturnType<Authorizer['start']>>;
  try {
    address = await authorizer.start(config.AUTHORIZER_PORT);
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  log.info(
    { port: address.port, resources: [...policy.current().resources.keys()] },
    'jitgate authorizer started',
  );
  return {
    authorizer,
    port: address.port,
    reloadPolicy() {
      policy.reload();
    },
    async stop() {
      await authorizer.stop();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
