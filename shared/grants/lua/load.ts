import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The Lua scripts behind every lifecycle transition, one `.lua` file each beside this module (the
 * build copies them next to the compiled JavaScript). Each file starts with a header listing its
 * KEYS, ARGV and reply. A line `--- @include "includes/name"` is replaced by that file, once per
 * script, so the scripts share their helpers without a prelude of their own.
 */
export const SCRIPT_NAMES = [
  'create-request',
  'approve-request',
  'deny-or-cancel-request',
  'expire-request',
  'escalate-request',
  'review-grant',
  'revoke-grant',
  'expire-grant',
  'redeem-code',
  'append-audit',
  'audit-grant-refusal',
  'record-use',
  'person-access',
  'read-request',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

const INCLUDE = /^--- @include "([\w/-]+)"$/gm;
const SCRIPTS_DIR = new URL('./', import.meta.url);

/**
 * Reads one script and its includes from `dir`.
 *
 * @example const lua = readScript('approve-request'); redis.defineCommand('approve', { lua })
 */
export function readScript(name: string, dir: URL = SCRIPTS_DIR): string {
  const included = new Set<string>();
  const expand = (file: string): string =>
    readLua(dir, file).replace(INCLUDE, (_line, include: string) => {
      if (included.has(include)) return '';
      included.add(include);
      return expand(include);
    });
  return expand(name);
}

function readLua(dir: URL, name: string): string {
  const path = fileURLToPath(new URL(`${name}.lua`, dir));
  if (!existsSync(path)) {
    // The build copies the .lua files beside the compiled modules; without them no transition can run.
    throw new Error(
      `Lua script ${path} is missing: run \`npm run build\`, which copies shared/**/*.lua to dist/`,
    );
  }
  return readFileSync(path, 'utf8');
}

/** Every script's source, read once when this module loads (a missing file stops the process at start). */
export const SCRIPTS: Readonly<Record<ScriptName, string>> = Object.fromEntries(
  SCRIPT_NAMES.map((name) => [name, readScript(name)]),
) as Record<ScriptName, string>;
