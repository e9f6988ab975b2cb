import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isJitgateError } from '../../shared/errors.js';
import { loadPolicy, matchResource, type PolicyProblem } from '../../shared/policy/index.js';

type Tree = Record<string, unknown>;

function policyWith(resources: Record<string, Tree>): string {
  return stringify({
    defaults: { approvalChannel: 'C0APPROVALS' },
    resources: {
      grafana: {
        upstream: 'http://127.0.0.1:3001',
        match: { pathPrefix: '/grafana' },
        approvers: { users: ['U0ALICE'] },
      },
      ...resources,
    },
  });
}

function db(change: Tree = {}): Tree {
  return {
    kind: 'postgres',
    upstream: 'postgres://db.internal:6543/app',
    approvers: { users: ['U0ALICE'] },
    roles: {
      readonly: { dbUser: 'jit_readonly', passwordFile: '/run/secrets/jit_readonly', readOnly: true },
      writer: { dbUser: 'jit_writer', passwordEnv: 'JIT_WRITER_PASSWORD' },
    },
    ...change,
  };
}

function problems(text: string): PolicyProblem[] {
  try {
    loadPolicy(text);
  } catch (err) {
    if (isJitgateError(err, 'policy_invalid')) return err.fields.problems as PolicyProblem[];
    throw err;
  }
  throw new Error('expected the policy to be refused');
}

describe('policy: kind postgres', () => {
  it('when a postgres resource names its logins, then it loads with its database and logins, and no HTTP route', () => {
    const policy = loadPolicy(policyWith({ 'prod-db': db() }));
    const res = policy.resources.get('prod-db')!;
    expect(res.kind).toBe('postgres');
    expect(res.match).toEqual({ database: 'prod-db' });
    expect(res.postgres).toEqual({ host: 'db.internal', port: 6543, database: 'app' });
    expect(res.roles.map((r) => [r.name, r.db])).toEqual([
      ['readonly', { user: 'jit_readonly', password: { file: '/run/secrets/jit_readonly' }, readOnly: true }],
      ['writer', { user: 'jit_writer', password: { env: 'JIT_WRITER_PASSWORD' }, readOnly: false }],
    ]);
    // Never reachable over HTTP, not even at a path named like it.
    expect(matchResource(policy, 'x', '/prod-db/')).toBeUndefined();
    expect(policy.resources.get('grafana')!.kind).toBe('http');
  });

  it('when the upstream asks for TLS, then the target says how, and plain stays plain', () => {
    const load = (upstream: string) =>
      loadPolicy(policyWith({ pg: db({ upstream }) })).resources.get('pg')!.postgres;
    expect(load('postgres://db:5432/app?sslmode=verify-full&sslrootcert=/etc/ca.pem')?.tls).toEqual({
      verify: true,
      caFile: '/etc/ca.pem',
    });
    expect(load('postgres://db:5432/app?sslmode=require')?.tls).toEqual({ verify: false });
    expect(load('postgres://db:5432/app?sslmode=disable')?.tls).toBeUndefined();
    expect(load('postgres://db:5432/app')?.tls).toBeUndefined();
  });

  it('when the port is left out, then it is 5432', () => {
    const res = loadPolicy(policyWith({ pg: db({ upstream: 'postgresql://127.0.0.1/app' }) })).resources.get(
      'pg',
    )!;
    expect(res.postgres).toEqual({ host: '127.0.0.1', port: 5432, database: 'app' });
  });

  it.each([
    [
      'an HTTP-only key (match)',
      db({ match: { pathPrefix: '/db' } }),
      'resources.pg.match',
      'is for HTTP resources',
    ],
    [
      'an HTTP-only key (websocket)',
      db({ websocket: true }),
      'resources.pg.websocket',
      'is for HTTP resources',
    ],
    [
      'an HTTP-only key (browser)',
      db({ browser: 'shared-origin' }),
      'resources.pg.browser',
      'is for HTTP resources',
    ],
    [
      'a role with methods',
      db({ roles: { ro: { dbUser: 'ro', methods: ['GET'] } } }),
      'resources.pg.roles.ro.methods',
      'is for HTTP resources',
    ],
    [
      'a role without its login',
      db({ roles: { ro: { readOnly: true } } }),
      'resources.pg.roles.ro.dbUser',
      'is required',
    ],
    [
      'both password sources',
      db({ roles: { ro: { dbUser: 'ro', passwordFile: '/p', passwordEnv: 'P' } } }),
      'resources.pg.roles.ro.passwordEnv',
      'not both',
    ],
    [
      'a relative password file',
      db({ roles: { ro: { dbUser: 'ro', passwordFile: 'secret' } } }),
      'resources.pg.roles.ro.passwordFile',
      'absolute path',
    ],
    [
      'a password in the policy',
      db({ roles: { ro: { dbUser: 'ro', password: 'hunter2' } } }),
      'resources.pg.roles.ro.password',
      'not a known key',
    ],
    [
      'a bad login name',
      db({ roles: { ro: { dbUser: 'ro; drop' } } }),
      'resources.pg.roles.ro.dbUser',
      'database login name',
    ],
    [
      'a WebSocket role',
      db({ roles: { ro: { dbUser: 'ro', websocket: true } } }),
      'resources.pg.roles.ro.websocket',
      'is for HTTP resources',
    ],
    ['no roles', db({ roles: undefined }), 'resources.pg.roles', 'is required for kind: postgres'],
    [
      'an http upstream',
      db({ upstream: 'http://127.0.0.1:5432/app' }),
      'resources.pg.upstream',
      'postgres:// URL',
    ],
    [
      'an upstream without a database',
      db({ upstream: 'postgres://127.0.0.1:5432' }),
      'resources.pg.upstream',
      'names no database',
    ],
    ['an unknown kind', db({ kind: 'mysql' }), 'resources.pg.kind', 'is not a kind'],
    [
      'an unknown sslmode',
      db({ upstream: 'postgres://db/app?sslmode=prefer' }),
      'resources.pg.upstream',
      'sslmode=prefer is not one jitgate knows',
    ],
    [
      'another query setting',
      db({ upstream: 'postgres://db/app?password=x' }),
      'resources.pg.upstream',
      '?password= is not a setting',
    ],
    [
      'a relative sslrootcert',
      db({ upstream: 'postgres://db/app?sslmode=verify-full&sslrootcert=ca.pem' }),
      'resources.pg.upstream',
      'absolute path',
    ],
    [
      'sslrootcert without verify-full',
      db({ upstream: 'postgres://db/app?sslmode=require&sslrootcert=/ca.pem' }),
      'resources.pg.upstream',
      'verify-full only',
    ],
  ])('when a postgres resource has %s, then the key path says so', (_what, body, path, words) => {
    const found = problems(policyWith({ pg: body }));
    expect(found.map((p) => p.path)).toContain(path);
    expect(found.find((p) => p.path === path)!.message).toContain(words);
  });

  it.each([
    [
      'a database key on a role',
      { roles: { viewer: { methods: ['GET'], dbUser: 'x' } } },
      'resources.web.roles.viewer.dbUser',
      'is for kind: postgres',
    ],
    [
      'readOnly on a role',
      { roles: { viewer: { methods: ['GET'], readOnly: true } } },
      'resources.web.roles.viewer.readOnly',
      'is for kind: postgres',
    ],
    [
      'a postgres upstream',
      { upstream: 'postgres://db/app' },
      'resources.web.upstream',
      'add kind: postgres',
    ],
    ['no match', { match: undefined }, 'resources.web.match', 'is required'],
  ])('when an HTTP resource has %s, then the key path says so', (_what, change, path, words) => {
    const body = {
      upstream: 'http://127.0.0.1:3009',
      match: { pathPrefix: '/web' },
      approvers: { users: ['U0ALICE'] },
      ...change,
    };
    const found = problems(policyWith({ web: body }));
    expect(found.find((p) => p.path === path)?.message).toContain(words);
  });
});
