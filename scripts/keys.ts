/**
 * `npm run keys -- generate --out keys.json` writes a new private JWK Set (one key, fresh kid) to a
 * file only its owner can read (mode 0600); an existing file is left alone unless `--force`.
 * Without `--out` the set is printed, and nothing else: `npm run -s keys -- generate > keys.json`
 * (npm's `-s` keeps its banner out of the file).
 * `--add <file-or-json>` puts a new key in front of an existing set: it signs from then on, and the
 * old keys still verify tokens already issued (key rotation). `--add keys.json --out keys.json`
 * rotates the file in place (its keys are kept, so no `--force` is needed).
 * `--alg ES256` (the default: P-256, which every JWT library verifies) or `--alg EdDSA` (Ed25519).
 * Exit codes: 0 fine, 1 the existing set is invalid or the file cannot be written, 2 bad usage.
 */

import {
  chmodSync,
  existsSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isJitgateError } from '../shared/errors.js';
import { generateSigningKeySet, loadSigningKeys, type SigningAlg } from '../shared/tokens/index.js';
import { type CliIo, runWhenEntry } from './cli.js';

const USAGE = [
  'usage: npm run keys -- generate --out keys.json [--force] [--alg ES256|EdDSA] [--add <existing set: file or JSON>]',
  '  generate         a new private JWK Set (one key, fresh kid); printed alone on stdout without --out',
  '  --out <file>     write it to <file>, readable by its owner only (0600); refuses an existing file',
  '  --force          with --out: replace an existing file',
  '  --alg <alg>      ES256 (default, P-256: verified by every JWT library) or EdDSA (Ed25519)',
  '  --add <set>      the existing set with the new key in front (it signs; the old keys still verify);',
  '                   --add keys.json --out keys.json rotates the file in place',
  "Printing instead of --out: npm run -s keys -- generate > keys.json (-s keeps npm's banner out)",
].join('\n');

class UsageError extends Error {}

interface Args {
  alg: SigningAlg;
  existing: string | undefined;
  out: string | undefined;
  force: boolean;
}

function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (command !== 'generate')
    throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  const args: Args = { alg: 'ES256', existing: undefined, out: undefined, force: false };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    if (flag === '--force') {
      args.force = true;
      continue;
    }
    const value = rest[++i];
    if (flag === '--alg') {
      if (value !== 'EdDSA' && value !== 'ES256') throw new UsageError('--alg must be ES256 or EdDSA');
      args.alg = value;
    } else if (flag === '--add') {
      if (!value) throw new UsageError('--add needs the existing key set (a file path or its JSON)');
      args.existing = value;
    } else if (flag === '--out') {
      if (!value || value.startsWith('--'))
        throw new UsageError('--out needs a file name, e.g. --out keys.json');
      args.out = value;
    } else {
      throw new UsageError(`unexpected argument "${flag}"`);
    }
  }
  if (args.force && !args.out) throw new UsageError('--force goes with --out <file>');
  return args;
}

/** The same file, whichever way it was named (only when both exist). */
function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/**
 * Writes the set beside its final name with mode 0600, then renames it into place: a reader never
 * sees half a file, and the key is never readable by others, not even for a moment.
 */
function writePrivateFile(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
    chmodSync(temp, 0o600); // the umask may have taken bits away, never added: this is for clarity
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

async function generate(argv: string[], io: CliIo): Promise<number> {
  if (argv[0] === '--help' || argv[0] === 'help') {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const { alg, existing, out, force } = parseArgs(argv);
  const inPlace = out !== undefined && existing !== undefined && sameFile(out, existing.trim());
  if (out !== undefined && existsSync(out) && !force && !inPlace) {
    io.stderr(
      `${out} already exists: nothing was written. To rotate, keep its keys: ` +
        `npm run keys -- generate --add ${out} --out ${out}; to replace it, add --force.\n`,
    );
    return 1;
  }
  let set = await generateSigningKeySet(alg);
  if (existing !== undefined) {
    await loadSigningKeys(existing); // a broken set stops here, with what is wrong and no key material
    const text = existing.trim().startsWith('{') ? existing : readFileSync(existing.trim(), 'utf8');
    const old = JSON.parse(text) as { keys: typeof set.keys };
    set = { keys: [...set.keys, ...old.keys] };
    await loadSigningKeys(JSON.stringify(set));
  }
  const json = `${JSON.stringify(set)}\n`;
  const kid = set.keys[0]!.kid;
  if (out === undefined) {
    io.stdout(json);
    io.stderr(
      `New key "${kid}" (${alg}) signs from now on. Keep this secret: set it as ` +
        'JITGATE_SIGNING_KEYS, or save it to a file readable only by jitgate and give its path.\n',
    );
    return 0;
  }
  try {
    writePrivateFile(out, json);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'an error';
    io.stderr(`${out} could not be written (${code}): nothing was written.\n`);
    return 1;
  }
  io.stderr(
    `Wrote ${out} (mode 0600): new key "${kid}" (${alg}) signs from now on` +
      `${existing === undefined ? '' : `, ${set.keys.length - 1} older key(s) still verify`}. ` +
      `Keep it secret. Set JITGATE_SIGNING_KEYS=${resolve(out)} for every authorizer.\n`,
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
