import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchPostgres } from '../support/postgres.js';
import { type PgHarness, startPgHarness } from '../support/postgres-harness.js';

// A server that asks for real passwords (test/support/postgres.ts); skipped where none can be made.
const scratch = await scratchPostgres().catch((err) => {
  console.warn(`postgres-logins: no scratch PostgreSQL (${(err as Error).message}); skipping`);
  return false;
});

let h: PgHarness;
beforeAll(async () => {
  if (scratch) h = await startPgHarness();
});
afterAll(async () => {
  await h?.close();
});

describe.skipIf(!scratch)('PostgreSQL gateway: logging in upstream with the role login', () => {
  it.each([
    ['scram', 'jit_scram', 'SCRAM-SHA-256 (password from a file)'],
    ['md5', 'jit_md5', 'md5 (password from a file)'],
    ['clear', 'jit_clear', 'a cleartext password (from the environment)'],
  ])('when the server asks for %s, then the gateway logs in as %s: %s', async (role, login) => {
    const { token } = await h.grant('scram-db', role);
    const client = h.client(token, 'scram-db');
    await client.connect();
    expect((await client.query('SELECT current_user AS who')).rows[0].who).toBe(login);
    await client.end();
  });

  it.each([
    ['the password is wrong', 'wrong'],
    ['the password file is missing', 'missing'],
    ['the password variable is not set', 'unset'],
  ])(
    'when %s, then the client is refused cleanly, without the database password or its file',
    async (_what, role) => {
      const { token } = await h.grant('scram-db', role);
      const client = h.client(token, 'scram-db');
      const err = await client.connect().then(
        () => undefined,
        (e: Error & { code?: string; hint?: string }) => e,
      );
      await client.end().catch(() => {});
      expect(err?.message).toMatch(/^jitgate (upstream_unreachable|unavailable)/);
      expect(err?.code).toBe('57P03');
      expect(err?.message).not.toMatch(/secret|nothing-here|jit_scram/);
    },
  );
});

describe.skipIf(!scratch)('PostgreSQL gateway: many sessions at once', () => {
  it('when 100 sessions log in and query at once, then each gets its own upstream session and its own answer', async () => {
    const grants = await Promise.all(Array.from({ length: 4 }, () => h.grant('scram-db', 'scram')));
    const clients = Array.from({ length: 100 }, (_, i) => h.client(grants[i % 4]!.token, 'scram-db'));
    await Promise.all(clients.map((c) => c.connect()));
    const answers = await Promise.all(
      clients.map(
        async (c, i) => (await c.query('SELECT $1::int AS i, pg_backend_pid() AS pid', [i])).rows[0],
      ),
    );
    expect(answers.map((a) => a.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(new Set(answers.map((a) => a.pid)).size).toBe(100);
    expect(h.system.authorizer!.authorizer.postgres!.registry.size).toBe(100);
    await Promise.all(clients.map((c) => c.end()));
  });
});

describe.skipIf(!scratch)('PostgreSQL gateway: TLS to the database', () => {
  it.each([
    ['tls-db', 'verify-full against its CA'],
    ['tls-require-db', 'require'],
  ])(
    'when the upstream URL of %s asks for TLS (%s), then the session to the database is encrypted',
    async (resource) => {
      const { token } = await h.grant(resource, 'tls');
      const client = h.client(token, resource);
      await client.connect();
      const { rows } = await client.query(
        'SELECT ssl, current_user AS who FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      expect(rows[0]).toEqual({ ssl: true, who: 'jit_tls' });
      await client.end();
    },
  );

  it('when the database certificate is not signed by the CA given, then the login is refused and nothing is sent to it', async () => {
    const { token } = await h.grant('tls-wrong-ca-db', 'tls');
    const client = h.client(token, 'tls-wrong-ca-db');
    const err = await client.connect().then(
      () => undefined,
      (e: Error & { code?: string }) => e,
    );
    await client.end().catch(() => {});
    expect(err?.message).toMatch(/^jitgate upstream_unreachable/);
  });
});
