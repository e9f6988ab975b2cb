import type { PolicyProblem, ResourceFile, RoleFile } from './schema.js';
import type { PostgresTarget, Role } from './types.js';

/**
 * The two kinds of resource and the keys each may use. An HTTP resource is routed (`match`) and
 * judged per request (`methods`, `paths`, `websocket` of roles and resource, `browser`); a postgres resource is reached
 * through the PostgreSQL gateway by its name as the database, and each role names the login jitgate
 * uses (`dbUser`, `passwordFile` or `passwordEnv`, `readOnly`). A key of the other kind is an error
 * with its path, never silently ignored: it would say something the gateway does not do.
 */

const HTTP_ROLE_KEYS = ['methods', 'paths', 'websocket'] as const;
const DB_ROLE_KEYS = ['dbUser', 'passwordFile', 'passwordEnv', 'readOnly'] as const;
const HTTP_RESOURCE_KEYS = ['match', 'websocket', 'browser'] as const;

/** Every key in `raw` that its kind does not take, and every key it needs but lacks. */
export function kindProblems(at: string, raw: ResourceFile): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const roles = Object.entries(raw.roles ?? {});
  if (raw.kind === 'postgres') {
    for (const key of HTTP_RESOURCE_KEYS) {
      if (raw[key] !== undefined) {
        problems.push({
          path: `${at}.${key}`,
          message: `is for HTTP resources; a postgres resource is reached through the PostgreSQL gateway, with its name (${at.slice('resources.'.length)}) as the database`,
        });
      }
    }
    const url = new URL(raw.upstream);
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      problems.push({
        path: `${at}.upstream`,
        message: 'must be a postgres:// URL for kind: postgres (e.g. postgres://db.internal:5432/app)',
      });
    } else if (url.pathname.length <= 1 || url.pathname.slice(1).includes('/')) {
      problems.push({
        path: `${at}.upstream`,
        message: 'names no database: write postgres://db.internal:5432/app',
      });
    }
    problems.push(...tlsProblems(`${at}.upstream`, url));
    if (roles.length === 0) {
      problems.push({
        path: `${at}.roles`,
        message:
          'is required for kind: postgres: name each role with its login, e.g. readonly: { dbUser: jit_readonly, passwordFile: /run/secrets/jit_readonly, readOnly: true }',
      });
    }
    for (const [name, role] of roles) problems.push(...dbRoleProblems(`${at}.roles.${name}`, role));
    return problems;
  }
  const url = new URL(raw.upstream);
  if (url.protocol === 'postgres:' || url.protocol === 'postgresql:') {
    problems.push({
      path: `${at}.upstream`,
      message: 'is a postgres:// URL: add kind: postgres for a database, or give an http(s):// URL',
    });
  }
  if (raw.match === undefined) {
    problems.push({
      path: `${at}.match`,
      message:
        'is required: give one of pathPrefix (e.g. /grafana) or host (e.g. grafana.access.example.com)',
    });
  }
  for (const [name, role] of roles) {
    for (const key of DB_ROLE_KEYS) {
      if (role[key] !== undefined) {
        problems.push({
          path: `${at}.roles.${name}.${key}`,
          message: 'is for kind: postgres resources; an HTTP role names methods (and paths)',
        });
      }
    }
    if (role.methods === undefined) {
      problems.push({
        path: `${at}.roles.${name}.methods`,
        message: 'is required (e.g. [GET, HEAD], or ["*"])',
      });
    }
  }
  return problems;
}

function dbRoleProblems(at: string, role: RoleFile): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const key of HTTP_ROLE_KEYS) {
    if (role[key] !== undefined) {
      problems.push({
        path: `${at}.${key}`,
        message:
          'is for HTTP resources; a postgres role names its login: dbUser, passwordFile or passwordEnv, readOnly',
      });
    }
  }
  if (role.dbUser === undefined) {
    problems.push({
      path: `${at}.dbUser`,
      message: 'is required: the database login jitgate uses for this role (e.g. jit_readonly)',
    });
  }
  if (role.passwordFile !== undefined && role.passwordEnv !== undefined) {
    problems.push({
      path: `${at}.passwordEnv`,
      message: 'give one of passwordFile or passwordEnv, not both',
    });
  }
  return problems;
}

/** The roles of a postgres resource, each with its login (checked by kindProblems). */
export function postgresRoles(entries: [string, RoleFile][]): Role[] {
  return entries.map(([name, r]) => ({
    name,
    methods: [],
    paths: [],
    db: {
      user: r.dbUser ?? '',
      password:
        r.passwordFile !== undefined
          ? { file: r.passwordFile }
          : r.passwordEnv !== undefined
            ? { env: r.passwordEnv }
            : undefined,
      readOnly: r.readOnly ?? false,
    },
  }));
}

const SSLMODES = ['disable', 'require', 'verify-full'] as const;

/** The query a postgres upstream may carry: `sslmode` (disable, require, verify-full) and `sslrootcert` (an absolute path). */
function tlsProblems(path: string, url: URL): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const [key, value] of url.searchParams) {
    if (key === 'sslmode') {
      if (!(SSLMODES as readonly string[]).includes(value)) {
        problems.push({
          path,
          message: `sslmode=${value} is not one jitgate knows: write sslmode=require or sslmode=verify-full (or leave it out: disable)`,
        });
      }
    } else if (key === 'sslrootcert') {
      if (!value.startsWith('/'))
        problems.push({ path, message: 'sslrootcert must be an absolute path to the CA certificate (PEM)' });
    } else {
      problems.push({
        path,
        message: `?${key}= is not a setting jitgate reads here: only sslmode and sslrootcert`,
      });
    }
  }
  if (url.searchParams.has('sslrootcert') && url.searchParams.get('sslmode') !== 'verify-full') {
    problems.push({ path, message: 'sslrootcert is used with sslmode=verify-full only' });
  }
  return problems;
}

/**
 * `postgres://db.internal:5432/app?sslmode=verify-full&sslrootcert=/etc/ca.pem` → where the
 * gateway connects (port 5432 when unsaid) and how: TLS when `sslmode` is require (encrypted) or
 * verify-full (and the certificate checked against the host name and the CA, or the system's).
 */
export function postgresTarget(upstream: string): PostgresTarget {
  const url = new URL(upstream);
  const mode = url.searchParams.get('sslmode');
  const ca = url.searchParams.get('sslrootcert');
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? 5432 : Number(url.port),
    database: decodeURIComponent(url.pathname.slice(1)),
    ...(mode === 'require' || mode === 'verify-full'
      ? { tls: { verify: mode === 'verify-full', ...(ca ? { caFile: ca } : {}) } }
      : {}),
  };
}
