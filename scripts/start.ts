/**
 * `npm start`: the bot, the worker and the authorizer in one process, for a single small deployment.
 * Each can also run alone (npm run start:bot / start:worker / start:authorizer) against the same Redis.
 */
import { loadConfig } from '../shared/config.js';
import { handleSignals } from '../shared/lifecycle.js';
import { exitOnFailure } from '../system/entry.js';
import { startSystem } from '../system/start.js';

exitOnFailure(async () => {
  const config = loadConfig(process.env);
  // The authorizer starts first: it checks the signing keys and fails with how to make them.
  const system = await startSystem({ roles: ['authorizer', 'bot', 'worker'], config });
  system.log.info(
    {
      botPort: system.bot?.port,
      authorizerPort: system.authorizer?.port,
      socketMode: Boolean(config.SLACK_APP_TOKEN),
    },
    'jitgate started: bot, worker and authorizer',
  );
  handleSignals(system.log, {
    reload: system.reloadPolicy,
    what: 'no new work; then Bolt, the authorizer, the worker, Redis',
    stop: system.stop,
  });
});
