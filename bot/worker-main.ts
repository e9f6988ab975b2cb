import { loadConfig } from '../shared/config.js';
import { isJitgateError, JitgateError } from '../shared/errors.js';
import { startWorker } from '../shared/jobs/worker.js';
import { handleSignals, livePolicy } from '../shared/lifecycle.js';
import { createLogger } from '../shared/log.js';
import { connectRedisPair } from '../shared/redis/connect.js';
import { redisKeys } from '../shared/redis/keys.js';
import { assembleBot } from './assemble.js';

/** `npm run start:worker`: the BullMQ worker alone (expiries, timeouts, reminders, message retries). */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (!config.SLACK_BOT_TOKEN) {
    throw new JitgateError(
      'config_invalid',
      'jitgate needs Slack credentials:\n  SLACK_BOT_TOKEN: not set (the Bot User OAuth Token, xoxb-…)\n' +
        'Create the app from manifest.yml (see README), or try it without Slack: npm run demo',
    );
  }
  const log = createLogger('worker', config.LOG_LEVEL);
  const policy = livePolicy(config.JITGATE_POLICY, log);
  const { redis, queueRedis } = connectRedisPair(config.REDIS_URL, log);
  const deps = assembleBot({
    redis,
    queueRedis,
    prefix: config.JITGATE_REDIS_PREFIX,
    policy: policy.current,
    publicUrl: config.JITGATE_PUBLIC_URL,
    botToken: config.SLACK_BOT_TOKEN,
    apiUrl: config.SLACK_API_URL,
    log,
  });
  const worker = startWorker({
    connection: queueRedis,
    queuePrefix: redisKeys(config.JITGATE_REDIS_PREFIX).queuePrefix,
    store: deps.store,
    scheduler: deps.scheduler,
    notifier: deps.notifier,
    log,
    reminderBeforeMs: (name) => policy.current().resources.get(name)?.reminderBeforeMs ?? 0,
  });
  log.info('jitgate worker started');

  handleSignals(log, {
    reload: policy.reload,
    what: 'finishing the jobs in hand, then Redis',
    stop: async () => {
      await worker.close().catch((err: unknown) => log.error({ err }, 'worker did not close cleanly'));
      await deps.scheduler.close().catch(() => {});
      await Promise.allSettled([redis.quit(), queueRedis.quit()]);
    },
  });
}

main().catch((err: unknown) => {
  if (isJitgateError(err)) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
