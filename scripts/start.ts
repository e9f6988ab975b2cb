/**
 * `npm start`: the bot, the worker and the authorizer in one process, for a single small deployment.
 * Each can also run alone (npm run start:bot / start:worker / start:authorizer) against the same Redis.
 */
import { handleSignals } from '../shared/lifecycle.js';
import { exitOnFailure } from '../system/entry.js';
import { startSystem } from '../system/start.js';

exitOnFailure(async () => {
  // Every problem of the environment, the Slack credentials, the keys and the policy is reported at once.
  const system = await startSystem({ roles: ['authorizer', 'bot', 'worker'], env: process.env });
  system.log.info(
    {
      botPort: system.bot?.port,
      authorizerPort: system.authorizer?.port,
      socketMode: Boolean(system.config.SLACK_APP_TOKEN),
    },
    'jitgate started: bot, worker and authorizer',
  );
  handleSignals(system.log, {
    reload: system.reloadPolicy,
    what: 'no new work; then Bolt, the authorizer, the worker, Redis',
    stop: system.stop,
  });
});
