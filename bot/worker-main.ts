import { handleSignals } from '../shared/lifecycle.js';
import { exitOnFailure } from '../system/entry.js';
import { startSystem } from '../system/start.js';

/** `npm run start:worker`: the BullMQ worker alone (expiries, timeouts, reminders, message retries). */
exitOnFailure(async () => {
  const system = await startSystem({ roles: ['worker'], env: process.env });
  handleSignals(system.log, {
    reload: system.reloadPolicy,
    what: 'finishing the jobs in hand, then Redis',
    stop: system.stop,
  });
});
