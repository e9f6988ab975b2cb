import { existsSync } from 'node:fs';
import { isJitgateError } from '../shared/errors.js';

/** The npm scripts that start jitgate from a checkout: they read `.env` (see `readDotEnv`). */
const NPM_STARTS = /^(start|dev)(:(bot|worker|authorizer))?$/;

/**
 * `npm start`, `npm run dev` and their `:bot`/`:worker`/`:authorizer` forms read `.env` in the
 * folder they run in, when there is one (the file docker-compose reads too); a variable already set
 * in the environment wins. Nothing else reads it: not the image's `node dist/…` (its environment is
 * the orchestrator's), and not the tests (`npm test` is another script).
 */
function readDotEnv(): void {
  if (!NPM_STARTS.test(process.env.npm_lifecycle_event ?? '')) return;
  // process.loadEnvFile arrived in Node 20.12; on an older 20 the file is not read.
  if (existsSync('.env') && typeof process.loadEnvFile === 'function') process.loadEnvFile('.env');
}

/**
 * Runs an entry file's start and exits 1 if it fails. Configuration, policy and key errors are
 * written for the operator, so they are printed as they are, without a stack.
 */
export function exitOnFailure(start: () => Promise<void>): void {
  readDotEnv();
  start().catch((err: unknown) => {
    console.error(isJitgateError(err) ? err.message : err);
    process.exit(1);
  });
}
