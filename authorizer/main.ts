import { systemClock } from '../shared/clock.js';
import { loadConfig } from '../shared/config.js';
import { isJitgateError } from '../shared/errors.js';
import { AccessStore } from '../shared/grants/store.js';
import { auditToLog, createLogger } from '../shared/log.js';
import { loadPolicyFile, type Policy } from '../shared/policy/index.js';
import { connectRedis } from '../shared/redis/connect.js';
import { loadSigningKeys } from '../shared/tokens/index.js';
import { createAuthorizer } from './server.js';

/** `npm run start:authorizer`: the identity-aware proxy. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger('authorizer', config.LOG_LEVEL);
  if (!config.JITGATE_SIGNING_KEYS) {
    console.error(
      'JITGATE_SIGNING_KEYS is not set. The authorizer signs and verifies access tokens with it.\n' +
        'Generate a key set with `npm run keys -- generate` and set JITGATE_SIGNING_KEYS to the JSON it\n' +
        'prints (or to the path of a file holding it). The bot and every authorizer must share it.',
    );
    process.exit(1);
  }
  let policy: Policy = loadPolicyFile(config.JITGATE_POLICY);
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
    policy: () => policy,
    store,
    redis,
    keys,
    clock: systemClock,
    log,
  });
  const address = await authorizer.start(config.AUTHORIZER_PORT);
  log.info({ port: address.port, resources: [...policy.resources.keys()] }, 'jitgate authorizer started');

  // SIGHUP re-reads the policy; a bad file is reported and the current policy stays.
  process.on('SIGHUP', () => {
    try {
      policy = loadPolicyFile(config.JITGATE_POLICY);
      log.info({ resources: policy.resources.size }, 'policy reloaded');
    } catch (err) {
      log.error({ err: String(err) }, 'policy not reloaded; keeping the current one');
    }
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: no new requests, in-flight ones finish, then Redis');
    const force = setTimeout(() => process.exit(1), 20_000).unref();
    try {
      await authorizer.stop();
      await redis.quit().catch(() => redis.disconnect());
      clearTimeout(force);
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error while stopping');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  // Configuration, policy and key errors are written for the operator: print them as they are.
  if (isJitgateError(err)) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
