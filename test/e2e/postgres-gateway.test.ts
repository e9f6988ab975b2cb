import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../../shared/tokens/index.js';
import { startSystem } from '../../system/start.js';
import { eventually } from '../support/authorizer-harness.js';
import {
  ALICE,
  type PgHarness,
  PUBLIC_URL,
  pgAuditEvents,
  startPgHarness,
} from '../support/postgres-harness.js';

let h: PgHarness;
beforeAll(async () => {
  h = await startPgHarness({ logLines: true });
});
afterAll(async () => {
  await h?.close();
});

async function refusalOf(
  client: ReturnType<PgHarness['client']>,
): Promise<{ code?: string; message: string; hint?: string }> {
  try {
    await client.connect();
  } catch (err) {
    return err as { code?: string; message: string; hint?: string };
  } finally {
    await client.end().catch(() => {});
  }
  throw new Error('expected the login to be refused');
}

describe('PostgreSQL gateway: connecting with a grant', () => {
  it('when a granted token is the password, then queries reach the database as the role login', async () => {
    const { token } = await h.grant('app-db', 'readwrite');
    const client = h.client(token);
    await client.connect();
    const { rows } = await client.query('SELECT current_user AS who, current_database() AS db');
    expect(rows[0]).toEqual({ who: 'jit_test_rw', db: 'jitgate_test' });
    const items = await client.query('SELECT name FROM items ORDER BY id LIMIT 2');
    expect(items.rows.map((r) => r.name)).toEqual(['first', 'second']);
    await client.end();
  });

  it('when the role is read-only, then a write is refused by the database and reads work', async () => {
    const { token } = await h.grant('app-db', 'readonly');
    const client = h.client(token);
    await client.connect();
    expect((await client.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBeGreaterThan(0);
    await expect(client.query(`INSERT INTO items (name) VALUES ('nope')`)).rejects.toMatchObject({
      code: '25006',
    });
    // The session flag is a safety belt; the login itself may not write either.
    await client.query('SET default_transaction_read_only = off');
    await expect(client.query(`INSERT INTO items (name) VALUES ('nope')`)).rejects.toMatchObject({
      code: '42501',
    });
    await client.end();
  });

  it('when a session ends, then db.session.started and db.session.ended are audited with its figures', async () => {
    const { token, grantId } = await h.grant('app-db', 'readwrite');
    const client = h.client(token);
    await client.connect();
    await client.query('SELECT 1');
    await client.query('SELECT 2');
    await client.end();
    await eventually(async () => {
      const events = (await pgAuditEvents(h)).filter((e) => e.grantId === grantId);
      const ended = events.find((e) => e.type === 'db.session.ended');
      expect(events.find((e) => e.type === 'db.session.started')).toMatchObject({
        user: 'U0ALICE',
        resource: 'app-db',
        role: 'readwrite',
        client: '127.0.0.1',
      });
      expect(ended).toMatchObject({ statements: 2, endedBy: 'client' });
      expect(ended!.bytesFromClient).toBeGreaterThan(0);
      expect(ended!.bytesToClient).toBeGreaterThan(0);
      expect(typeof ended!.durationMs).toBe('number');
    });
    const statements = h.logLines
      .filter((l) => l.includes('postgres statements'))
      .map((l) => JSON.parse(l))
      .filter((line) => line.db.grantId === grantId)
      .flatMap((line) => line.statements);
    expect(statements).toEqual(['SELECT 1', 'SELECT 2']);
    expect(h.logLines.join('\n')).not.toContain(token);
  });

  it('when a statement is long, then the log keeps its first 2 KB only', async () => {
    const { token, grantId } = await h.grant('app-db', 'readonly');
    const client = h.client(token);
    await client.connect();
    await client.query(`SELECT '${'x'.repeat(5_000)}' AS long`);
    await client.end();
    await eventually(() => {
      const logged = h.logLines
        .filter((l) => l.includes('postgres statements'))
        .map((l) => JSON.parse(l))
        .filter((line) => line.db.grantId === grantId)
        .flatMap((line) => line.statements as string[]);
      expect(logged).toHaveLength(1);
      expect(Buffer.byteLength(logged[0]!)).toBe(2048);
      expect(logged[0]).toMatch(/^SELECT 'xxx/);
    });
  });
});

describe('PostgreSQL gateway: refusals before any upstream connection', () => {
  it.each([
    ['a wrong token', async () => 'not-a-token', 'app-db', 'token_invalid', '28P01'],
    ['an empty password', async () => '', 'app-db', 'token_missing', '28P01'],
    [
      'an expired token',
      async () => {
        const g = await h.grant('app-db');
        // The same grant's token, signed as if an hour ago and run out a minute ago.
        const past = { now: () => Date.now() - 3_600_000 };
        return signAccessToken(
          h.keys,
          {
            issuer: PUBLIC_URL,
            grantId: g.grantId,
            user: ALICE,
            email: 'u0alice@example.com',
            resource: 'app-db',
            role: 'readonly',
            expiresAt: Date.now() - 60_000,
          },
          past,
        );
      },
      'app-db',
      'token_expired',
      '28P01',
    ],
    [
      'a token for another resource',
      async () => (await h.grant('other-db')).token,
      'app-db',
      'wrong_resource',
      '28000',
    ],
    ['an unknown database', async () => (await h.grant('app-db')).token, 'nope', 'no_such_resource', '3D000'],
    [
      'an HTTP resource as the database',
      async () => (await h.grant('app-db')).token,
      'web',
      'no_such_resource',
      '3D000',
    ],
    [
      'a revoked grant',
      async () => {
        const g = await h.grant('app-db');
        await h.store.transitions.revoke(g.grantId, 'U0BOSS' as never, 'test');
        return g.token;
      },
      'app-db',
      'grant_revoked',
      '28P01',
    ],
    [
      'an address outside the networks',
      async () => (await h.grant('lan-db')).token,
      'lan-db',
      'network_not_allowed',
      '28000',
    ],
  ])(
    'when the client sends %s, then it gets a FATAL with the code and hint, and no upstream connection opens',
    async (_what, token, database, code, sqlstate) => {
      const password = await token();
      const before = h.upstream.connections;
      const err = await refusalOf(h.client(password, database));
      expect(err.message).toContain(`jitgate ${code}`);
      expect(err.code).toBe(sqlstate);
      expect(err.hint).toBeTruthy();
      expect(h.upstream.connections).toBe(before);
    },
  );
});

describe('PostgreSQL gateway: refusals are audited', () => {
  it('when the token of a revoked grant is refused, then access.denied is in the audit chain with who and why', async () => {
    const { token, grantId } = await h.grant('app-db');
    await h.store.transitions.revoke(grantId, 'U0BOSS' as never, 'test');
    const client = h.client(token, 'app-db');
    await client.connect().catch(() => {});
    await client.end().catch(() => {});
    await eventually(async () => {
      const denied = (await pgAuditEvents(h)).find(
        (e) => e.type === 'access.denied' && e.grantId === grantId,
      );
      expect(denied).toMatchObject({
        actor: 'U0ALICE',
        resource: 'app-db',
        reason: 'grant_revoked',
        method: 'postgres',
        client: '127.0.0.1',
      });
    });
  });
});

describe('PostgreSQL gateway: where it may listen', () => {
  it('when it would listen beyond loopback without TLS, then the authorizer refuses to start and says how to fix it', async () => {
    await expect(
      startSystem({
        roles: ['authorizer'],
        overrides: {
          redis: h.redis,
          prefix: `t-nolisten-${Date.now()}`,
          policy: h.policy,
          signingKeys: h.keys,
          publicUrl: PUBLIC_URL,
          log: (await import('../../shared/log.js')).createLogger('t', 'silent'),
          authorizerPort: 0,
          authorizerHost: '127.0.0.1',
          postgres: { port: 0, host: '0.0.0.0' },
        },
      }),
    ).rejects.toThrow(/without TLS: set JITGATE_POSTGRES_TLS_CERT and JITGATE_POSTGRES_TLS_KEY/);
  });
});
