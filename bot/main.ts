import { loadConfig, requireSlack } from '../shared/config.js';
import { isJitgateError } from '../shared/errors.js';
import { handleSignals, livePolicy } from '../shared/lifecycle.js';
import { createLogger } from '../shared/log.js';
import { connectRedisPair } from '../shared/redis/connect.js';
import { redisKeys } from '../shared/redis/keys.js';
import { createBot } from './app.js';
import { assembleBot } from './assemble.js';

/** `npm run start:bot`: the Slack bot, and the worker too unless JITGATE_WORKER=off. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const slack = requireSlack(config);
  const log = createLogger('bot', config.LOG_LEVEL);
  const policy = livePolicy(config.JITGATE_POLICY, log);
  const { redis, queueRedis } = connectRedisPair(config.REDIS_URL, log);
  const deps = assembleBot({
    redis,
    queueRedis,
    prefix: config.JITGATE_REDIS_PREFIX,
    policy: policy.current,
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

  handleSignals(log, {
    reload: policy.reload,
    what: 'no new work, then Bolt/HTTP, the worker, Redis',
    stop: async () => {
      await bot.stop();
      await deps.scheduler.close();
      await Promise.allSettled([redis.quit(), queueRedis.quit()]);
    },
  });
}

main().catch((err: unknown) => {
  // Configuration and policy errors are written for the operator: print them as they are.
  if (isJitgateError(err)) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
