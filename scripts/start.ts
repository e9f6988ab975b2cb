/**
 * `npm start`: the bot, the worker and the authorizer in one process, for a single small deployment.
 * Each can also run alone (npm run start:bot / start:worker / start:authorizer) against the same Redis.
 */

import { createAuthorizer } from '../authorizer/server.js';
import { createBot } from '../bot/app.js';
import { assembleBot } from '../bot/assemble.js';
import { systemClock } from '../shared/clock.js';
import { loadConfig, requireSlack } from '../shared/config.js';
import { isJitgateError, JitgateError } from '../shared/errors.js';
import { AccessStore } from '../shared/grants/store.js';
import { auditToLog, createLogger } from '../shared/log.js';
import { loadPolicyFile, type Policy } from '../shared/policy/index.js';
import { connectRedis, connectRedisForQueue } from '../shared/redis/connect.js';
import { redisKeys } from '../shared/redis/keys.js';
import { loadSigningKeys } from '../shared/tokens/index.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const slack = requireSlack(config);
  if (!config.JITGATE_SIGNING_KEYS) {
    throw new JitgateError(
      'config_invalid',
      'JITGATE_SIGNING_KEYS is not set: generate a key set with `npm run keys -- generate > keys.json` and set JITGATE_SIGNING_KEYS=./keys.json',
    );
  }
  const log = createLogger('jitgate', config.LOG_LEVEL);
  let policy: Policy = loadPolicyFile(config.JITGATE_POLICY);
  const keys = await loadSigningKeys(config.JITGATE_SIGNING_KEYS);
  const redis = connectRedis(config.REDIS_URL);
  const queueRedis = connectRedisForQueue(config.REDIS_URL);
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis: connection error'));
  queueRedis.on('error', (err) => log.warn({ err: err.message }, 'redis (queue): connection error'));

  const deps = assembleBot({
    redis,
    queueRedis,
    prefix: config.JITGATE_REDIS_PREFIX,
    policy: () => policy,
    publicUrl: config.JITGATE_PUBLIC_URL,
    botToken: slack.botToken,
    apiUrl: config.SLACK_API_URL,
    log: log.child({ component: 'bot' }),
  });
  const bot = createBot(deps, {
    ...slack,
    apiUrl: config.SLACK_API_URL,
    worker: { connection: queueRedis, queuePrefix: redisKeys(config.JITGATE_REDIS_PREFIX).queuePrefix },
  });
  const authorizer = createAuthorizer({
    publicUrl: config.JITGATE_PUBLIC_URL,
    trustedProxies: config.JITGATE_TRUSTED_PROXIES,
    policy: () => policy,
    store: new AccessStore(redis, {
      prefix: config.JITGATE_REDIS_PREFIX,
      clock: systemClock,
      auditSink: auditToLog(log.child({ component: 'audit' })),
    }),
    redis,
    keys,
    clock: systemClock,
    log: log.child({ component: 'authorizer' }),
  });
  const botAddress = await bot.start(config.BOT_PORT);
  const authAddress = await authorizer.start(config.AUTHORIZER_PORT);
  log.info(
    { botPort: botAddress.port, authorizerPort: authAddress.port, socketMode: Boolean(slack.appToken) },
    'jitgate started: bot, worker and authorizer',
  );

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
    log.info({ signal }, 'stopping: no new work; then Bolt, the authorizer, the worker, Redis');
    const force = setTimeout(() => process.exit(1), 25_000).unref();
    await Promise.allSettled([bot.stop(), authorizer.stop()]);
    await deps.scheduler.close().catch(() => {});
    await Promise.allSettled([redis.quit(), queueRedis.quit()]);
    clearTimeout(force);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(isJitgateError(err) ? err.message : err);
  process.exit(1);
});
