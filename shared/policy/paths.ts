import type { Role } from './types.js';

/** Globs compiled once per pattern: `*` is one segment's characters, `**` any number of segments. */
const compiled = new Map<string, RegExp>();

function compile(glob: string): RegExp {
  let re = compiled.get(glob);
  if (re) return re;
  let source = '^';
  const segments = glob.split('/');
  segments.forEach((segment, i) => {
    if (i === 0) return; // globs start with '/'
    if (segment === '**') {
      // `/a/**` matches `/a`, `/a/` and anything below it.
      source += '(?:/.*)?';
      return;
    }
    source += `/${segment
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}`;
  });
  re = new RegExp(`${source}$`);
  compiled.set(glob, re);
  return re;
}

/** True when `path` (its query string ignored) matches the glob. */
export function pathMatches(glob: string, path: string): boolean {
  const q = path.indexOf('?');
  const bare = q === -1 ? path : path.slice(0, q);
  if (/(^|\/)\.\.?(\/|$)/.test(bare)) return false;
  return compile(glob).test(bare);
}

/**
 * Whether a role may use this method on this path. The caller has already normalised the path;
 * a `.` or `..` segment never matches, whatever the globs say.
 *
 * @example roleAllows({ name: 'viewer', methods: ['GET'], paths: ['/**'] }, 'GET', '/d/abc') // true
 */
export function roleAllows(role: Role, method: string, path: string): boolean {
  const m = method.toUpperCase();
  if (!role.methods.includes('*') && !role.methods.includes(m)) return false;
  return role.paths.some((glob) => pathMatches(glob, path));
}
