/**
 * `npm start`: the bot, the worker and the authorizer in one process, for a single small deployment.
 * Each can also run alone (npm run start:bot / start:worker / start:authorizer) against the same Redis.
 */
import { startAuthorizerProcess } from '../authorizer/process.js';
import { createBot } from '../bot/app.js';
import { assembleBot } from '../bot/assemble.js';
import { loadConfig, requireSlack } from '../shared/config.js';
import { isJitgateError } from '../shared/errors.js';
import { handleSignals, livePolicy } from '../shared/lifecycle.js';
import { createLogger } from '../shared/log.js';
import { connectRedisPair } from '../shared/redis/connect.js';
import { redisKeys } from '../shared/redis/keys.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const slack = requireSlack(config);
  const log = createLogger('jitgate', config.LOG_LEVEL);
  // The authorizer first: it checks the signing keys and fails with how to make them.
  const authorizer = await startAuthorizerProcess(config, log.child({ component: 'authorizer' }));
  const policy = livePolicy(config.JITGATE_POLICY, log.child({ component: 'bot' }));
  const { redis, queueRedis } = connectRedisPair(config.REDIS_URL, log);
  const deps = assembleBot({
    redis,
    queueRedis,
    prefix: config.JITGATE_REDIS_PREFIX,
    policy: policy.current,
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
  const { port } = await bot.start(config.BOT_PORT);
  log.info(
    { botPort: port, authorizerPort: authorizer.port, socketMode: Boolean(slack.appToken) },
    'jitgate started: bot, worker and authorizer',
  );
  handleSignals(log, {
    reload: () => {
      policy.reload();
      authorizer.reloadPolicy();
    },
    what: 'no new work; then Bolt, the authorizer, the worker, Redis',
    stop: async () => {
      await Promise.allSettled([bot.stop(), authorizer.stop()]);
      await deps.scheduler.close().catch(() => {});
      await Promise.allSettled([redis.quit(), queueRedis.quit()]);
    },
  });
}

main().catch((err: unknown) => {
  console.error(isJitgateError(err) ? err.message : err);
  process.exit(1);
});
