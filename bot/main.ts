import { loadConfig, requireSlack } from '../shared/config.js';
import { isJitgateError } from '../shared/errors.js';
import { createLogger } from '../shared/log.js';
import { loadPolicyFile } from '../shared/policy/index.js';
import type { Policy } from '../shared/policy/types.js';
import { connectRedis, connectRedisForQueue } from '../shared/redis/connect.js';
import { redisKeys } from '../shared/redis/keys.js';
import { createBot } from './app.js';
import { assembleBot } from './assemble.js';

/** `npm run start:bot`: the Slack bot, and the worker too unless JITGATE_WORKER=off. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const slack = requireSlack(config);
  const log = createLogger('bot', config.LOG_LEVEL);
  let policy: Policy = loadPolicyFile(config.JITGATE_POLICY);
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
    log,
  });
  const worker =
    config.JITGATE_WORKER === 'on'
      ? { connection: queueRedis, queuePrefix: redisKeys(config.JITGATE_REDIS_PREFIX).queuePrefix }
      : undefined;
  const bot = createBot(deps, { ...slack, apiUrl: config.SLACK_API_URL, worker });
  await bot.start(config.BOT_PORT);
  log.info({ worker: Boolean(worker), socketMode: Boolean(slack.appToken) }, 'jitgate bot started');

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
    log.info({ signal }, 'stopping: no new work, then Bolt/HTTP, the worker, Redis');
    const force = setTimeout(() => process.exit(1), 25_000).unref();
    try {
      await bot.stop();
      await deps.scheduler.close();
      await Promise.allSettled([redis.quit(), queueRedis.quit()]);
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
  // Configuration and policy errors are written for the operator: print them as they are.
  if (isJitgateError(err)) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
