/**
 * `npm run keys -- generate [--alg EdDSA|ES256]` prints a new private JWK Set (one key, fresh kid).
 * `npm run keys -- generate --add <file-or-json>` puts a new key in front of an existing set: it signs
 * from then on, and the old keys still verify tokens already issued (key rotation).
 * Exit codes: 0 fine, 1 the existing set is invalid, 2 bad usage.
 */

import { readFileSync } from 'node:fs';
import { isJitgateError } from '../shared/errors.js';
import { generateSigningKeySet, loadSigningKeys, type SigningAlg } from '../shared/tokens/index.js';
import { type CliIo, runWhenEntry } from './cli.js';

const USAGE = [
  'usage: npm run keys -- generate [--alg EdDSA|ES256] [--add <existing set: file or JSON>]',
  '  generate         print a new private JWK Set (one key, fresh kid); default --alg EdDSA',
  '  --add <set>      print the existing set with the new key in front (it signs; the old keys still verify)',
].join('\n');

class UsageError extends Error {}

function parseArgs(argv: string[]): { alg: SigningAlg; existing?: string } {
  const [command, ...rest] = argv;
  if (command !== 'generate')
    throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  let alg: SigningAlg = 'EdDSA';
  let existing: string | undefined;
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i];
    const value = rest[i + 1];
    if (flag === '--alg') {
      if (value !== 'EdDSA' && value !== 'ES256') throw new UsageError('--alg must be EdDSA or ES256');
      alg = value;
    } else if (flag === '--add') {
      if (!value) throw new UsageError('--add needs the existing key set (a file path or its JSON)');
      existing = value;
    } else {
      throw new UsageError(`unexpected argument "${flag}"`);
    }
  }
  return existing === undefined ? { alg } : { alg, existing };
}

async function generate(argv: string[], io: CliIo): Promise<number> {
  if (argv[0] === '--help' || argv[0] === 'help') {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const { alg, existing } = parseArgs(argv);
  let set = await generateSigningKeySet(alg);
  if (existing !== undefined) {
    await loadSigningKeys(existing); // a broken set stops here, with what is wrong and no key material
    const text = existing.trim().startsWith('{') ? existing : readFileSync(existing.trim(), 'utf8');
    const old = JSON.parse(text) as { keys: typeof set.keys };
    set = { keys: [...set.keys, ...old.keys] };
    await loadSigningKeys(JSON.stringify(set));
  }
  io.stdout(`${JSON.stringify(set)}\n`);
  io.stderr(
    `New key "${set.keys[0]!.kid}" (${alg}) signs from now on. Keep this secret: set it as ` +
      'JITGATE_SIGNING_KEYS, or save it to a file readable only by jitgate and give its path.\n',
  );
  return 0;
}

/** `npm run keys -- <argv>`: answers the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  try {
    return await generate(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`${err.message}\n${USAGE}\n`);
      return 2;
    }
    // Only our own messages are printed: they never quote key material.
    io.stderr(
      isJitgateError(err)
        ? `${err.message}\n`
        : `npm run keys failed unexpectedly (${err instanceof Error ? err.name : typeof err})\n`,
    );
    return 1;
  }
}

runWhenEntry(import.meta.url, run);
