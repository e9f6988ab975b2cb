import type { Role } from './types.js';

/**
 * Role globs: `*` is the characters of one segment (never a `/`; a whole-segment `*` needs at least
 * one), `**` is any number of whole segments including none, everything else is literal.
 */
function compile(glob: string): RegExp {
  let source = '^';
  for (const segment of glob.split('/').slice(1)) {
    if (segment === '**') {
      // `/api/**` matches `/api`, `/api/` and everything below it.
      source += '(?:/.*)?';
    } else if (segment === '*') {
      source += '/[^/]+';
    } else {
      source += `/${segment
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*')}`;
    }
  }
  return new RegExp(`${source}$`);
}

interface CompiledRole {
  anyMethod: boolean;
  methods: ReadonlySet<string>;
  paths: RegExp[];
}

// Roles come from a loaded policy and are checked on every proxied request: compile each once.
const compiledRoles = new WeakMap<Role, CompiledRole>();

function compiled(role: Role): CompiledRole {
  let c = compiledRoles.get(role);
  if (!c) {
    const methods = new Set(role.methods.map((m) => m.toUpperCase()));
    c = { anyMethod: methods.has('*'), methods, paths: role.paths.map(compile) };
    compiledRoles.set(role, c);
  }
  return c;
}

/** The path without its query string, or undefined when it has a `.` or `..` segment. */
function plainPath(path: string): string | undefined {
  const q = path.indexOf('?');
  const bare = q === -1 ? path : path.slice(0, q);
  return bare.split('/').some((s) => s === '..' || s === '.') ? undefined : bare;
}

/**
 * True when `path` (its query string ignored) matches one glob.
 *
 * @example pathMatches('/api/**', '/api/v1/users?limit=5') // true
 */
export function pathMatches(glob: string, path: string): boolean {
  const bare = plainPath(path);
  return bare !== undefined && compile(glob).test(bare);
}

/**
 * Whether a role may use this method on this path. The caller has already normalised the path;
 * still, a `.` or `..` segment never matches, whatever the globs say.
 *
 * @example roleAllows({ name: 'viewer', methods: ['GET'], paths: ['/**'] }, 'GET', '/d/abc') // true
 */
export function roleAllows(role: Role, method: string, path: string): boolean {
  const c = compiled(role);
  if (!c.anyMethod && !c.methods.has(method.toUpperCase())) return false;
  const bare = plainPath(path);
  return bare !== undefined && c.paths.some((re) => re.test(bare));
}
