import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../shared/config.js';
import { isJitgateError } from '../shared/errors.js';
import { handleSignals } from '../shared/lifecycle.js';
import { createLogger } from '../shared/log.js';
import { startAuthorizerProcess } from './process.js';

export { type AuthorizerProcess, startAuthorizerProcess } from './process.js';

/** `npm run start:authorizer`: the identity-aware proxy alone. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger('authorizer', config.LOG_LEVEL);
  const proc = await startAuthorizerProcess(config, log);

  handleSignals(log, {
    stop: () => proc.stop(),
    reload: () => proc.reloadPolicy(),
    forceAfterMs: 20_000,
    what: 'no new requests, in-flight ones finish, then Redis',
  });
}

/** Run only as the entry point: `npm start` imports startAuthorizerProcess from here without starting one. */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().catch((err: unknown) => {
    // Configuration, policy and key errors are written for the operator: print them as they are.
    if (isJitgateError(err)) console.error(err.message);
    else console.error(err);
    process.exit(1);
  });
}
