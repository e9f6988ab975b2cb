import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../shared/config.js';
import { isJitgateError } from '../shared/errors.js';
import { createLogger } from '../shared/log.js';
import { startAuthorizerProcess } from './process.js';

export { type AuthorizerProcess, startAuthorizerProcess } from './process.js';

/** `npm run start:authorizer`: the identity-aware proxy alone. */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger('authorizer', config.LOG_LEVEL);
  const proc = await startAuthorizerProcess(config, log);

  // SIGHUP re-reads the policy; a bad file is reported and the current policy stays.
  process.on('SIGHUP', () => proc.reloadPolicy());

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: no new requests, in-flight ones finish, then Redis');
    const force = setTimeout(() => process.exit(1), 20_000).unref();
    try {
      await proc.stop();
      clearTimeout(force);
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error while stopping');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
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
