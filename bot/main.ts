import { loadConfig } from '../shared/config.js';
import { handleSignals } from '../shared/lifecycle.js';
import { exitOnFailure } from '../system/entry.js';
import { startSystem } from '../system/start.js';

/** `npm run start:bot`: the Slack bot, and the worker too unless JITGATE_WORKER=off. */
exitOnFailure(async () => {
  const config = loadConfig(process.env);
  const system = await startSystem({
    roles: config.JITGATE_WORKER === 'on' ? ['bot', 'worker'] : ['bot'],
    config,
  });
  handleSignals(system.log, {
    reload: system.reloadPolicy,
    what: 'no new work, then Bolt/HTTP, the worker, Redis',
    stop: system.stop,
  });
});
