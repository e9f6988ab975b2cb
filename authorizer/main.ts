import { handleSignals } from '../shared/lifecycle.js';
import { exitOnFailure } from '../system/entry.js';
import { startSystem } from '../system/start.js';

/** `npm run start:authorizer`: the identity-aware proxy alone. */
exitOnFailure(async () => {
  const system = await startSystem({ roles: ['authorizer'], env: process.env });
  handleSignals(system.log, {
    stop: system.stop,
    reload: system.reloadPolicy,
    forceAfterMs: 20_000,
    what: 'no new requests, in-flight ones finish, then Redis',
  });
});
