import type { Role } from './types.js';

/**
 * Role globs: `*` is the characters of one segment (never a `/`; a whole-segment `*` needs at least
 * one), `**` is any number of whole segments including none, everything else is literal.
 *
 * Matched segment by segment with the two-pointer wildcard algorithm, not with a regular
 * expression: a glob such as `/reports/*-*-*` compiled to `[^/]*-[^/]*-[^/]*` backtracks
 * cubically, and one request with a long path of dashes held the event loop for seconds.
 * Here the work is at most (glob length × path length).
 */
type Matcher = (path: string) => boolean;

function compile(glob: string): Matcher {
  const pattern = glob.split('/').slice(1);
  return (path) => path.startsWith('/') && matchSequence(pattern, path.split('/').slice(1));
}

/** `**` takes any run of segments; every other glob segment takes exactly one. */
function matchSequence(pattern: readonly string[], segments: readonly string[]): boolean {
  let p = 0;
  let s = 0;
  let star = -1;
  let resume = 0;
  while (s < segments.length) {
    if (p < pattern.length && pattern[p] === '**') {
      star = p;
      resume = s;
      p += 1;
    } else if (p < pattern.length && segmentMatches(pattern[p]!, segments[s]!)) {
      p += 1;
      s += 1;
    } else if (star !== -1) {
      p = star + 1;
      resume += 1;
      s = resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '**') p += 1;
  return p === pattern.length;
}

/** One segment against one glob segment: `*` alone needs a character, `*` inside takes any run. */
function segmentMatches(glob: string, segment: string): boolean {
  if (glob === '*') return segment.length > 0;
  if (!glob.includes('*')) return glob === segment;
  let g = 0;
  let c = 0;
  let star = -1;
  let resume = 0;
  while (c < segment.length) {
    if (g < glob.length && glob[g] === '*') {
      star = g;
      resume = c;
      g += 1;
    } else if (g < glob.length && glob[g] === segment[c]) {
      g += 1;
      c += 1;
    } else if (star !== -1) {
      g = star + 1;
      resume += 1;
      c = resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g += 1;
  return g === glob.length;
}

interface CompiledRole {
  anyMethod: boolean;
  methods: ReadonlySet<string>;
  paths: Matcher[];
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
  return bare !== undefined && compile(glob)(bare);
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
  return bare !== undefined && c.paths.some((matches) => matches(bare));
}
