import { handleSignals } from '../shared/lifecycle.js';
import { exitOnFailure } from '../system/entry.js';
import { startSystem } from '../system/start.js';

/** `npm run start:bot`: the Slack bot, and the worker too unless JITGATE_WORKER=off. */
exitOnFailure(async () => {
  // A value other than on or off is reported with the rest of the environment's problems.
  const system = await startSystem({
    roles: process.env.JITGATE_WORKER === 'off' ? ['bot'] : ['bot', 'worker'],
    env: process.env,
  });
  handleSignals(system.log, {
    reload: system.reloadPolicy,
    what: 'no new work, then Bolt/HTTP, the worker, Redis',
    stop: system.stop,
  });
});
