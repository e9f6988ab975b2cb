/**
 * `npm run keys -- generate [--alg EdDSA|ES256]` prints a new private JWK Set (one key, fresh kid).
 * `npm run keys -- generate --add <file-or-json>` puts a new key in front of an existing set: it signs
 * from then on, and the old keys still verify tokens already issued (key rotation).
 * Exit codes: 0 fine, 1 the existing set is invalid, 2 bad usage.
 */

import { readFileSync } from 'node:fs';
import { isJitgateError } from '../shared/errors.js';
import { generateSigningKeySet, loadSigningKeys, type SigningAlg } from '../shared/tokens/index.js';

const USAGE = 'usage: npm run keys -- generate [--alg EdDSA|ES256] [--add <existing set: file or JSON>]';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'generate') return usage(command ? `unknown command "${command}"` : 'no command given');
  let alg: SigningAlg = 'EdDSA';
  let existing: string | undefined;
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (flag === '--alg' && (value === 'EdDSA' || value === 'ES256')) alg = value;
    else if (flag === '--add' && value) existing = value;
    else return usage(`unexpected argument "${flag}${value ? ` ${value}` : ''}"`);
  }
  const fresh = await generateSigningKeySet(alg);
  if (existing) {
    await loadSigningKeys(existing); // validates, with a clear message
    const text = existing.trim().startsWith('{') ? existing : readFileSync(existing, 'utf8');
    const old = JSON.parse(text) as { keys: unknown[] };
    process.stdout.write(`${JSON.stringify({ keys: [...fresh.keys, ...old.keys] })}\n`);
  } else {
    process.stdout.write(`${JSON.stringify(fresh)}\n`);
  }
  process.stderr.write(
    'Keep this secret: set it as JITGATE_SIGNING_KEYS (or save it to a file and give its path).\n',
  );
  return 0;
}

function usage(problem: string): number {
  process.stderr.write(`${problem}\n${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${isJitgateError(err) ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
