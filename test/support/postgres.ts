import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** The machine's PostgreSQL (trust for local users; `.ci/run` starts it). */
export const MAIN_PG = { host: '127.0.0.1', port: 5432 };
/** The test database on it, and its two logins (set up once by `prepareMainDatabase`). */
export const TEST_DB = 'jitgate_test';
export const RO_LOGIN = 'jit_test_ro';
export const RW_LOGIN = 'jit_test_rw';

/** Runs SQL as the superuser on the machine's server. */
export async function superuser<T = unknown>(sql: string, database = 'postgres'): Promise<T[]> {
  const client = new pg.Client({ ...MAIN_PG, user: 'postgres', database });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

let prepared: Promise<void> | undefined;

/**
 * The test database, its table and two logins: one that may only read (the README's recipe), one
 * that may write. Idempotent: several test files (and processes) may call it at once.
 */
export function prepareMainDatabase(): Promise<void> {
  prepared ??= withSetupLock(async () => {
    await superuser(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${RO_LOGIN}') THEN CREATE ROLE ${RO_LOGIN} LOGIN; END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${RW_LOGIN}') THEN CREATE ROLE ${RW_LOGIN} LOGIN; END IF;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;`);
    try {
      await superuser(`CREATE DATABASE ${TEST_DB}`);
    } catch (err) {
      if ((err as { code?: string }).code !== '42P04' && (err as { code?: string }).code !== '23505')
        throw err;
    }
    await superuser(
      `DO $$ BEGIN
        CREATE TABLE IF NOT EXISTS items (id serial PRIMARY KEY, name text NOT NULL);
        IF NOT EXISTS (SELECT FROM items) THEN INSERT INTO items (name) VALUES ('first'), ('second'); END IF;
        GRANT CONNECT ON DATABASE ${TEST_DB} TO ${RO_LOGIN}, ${RW_LOGIN};
        GRANT USAGE ON SCHEMA public TO ${RO_LOGIN}, ${RW_LOGIN};
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${RO_LOGIN};
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${RW_LOGIN};
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${RW_LOGIN};
      EXCEPTION WHEN duplicate_table OR unique_violation THEN NULL; END $$;`,
      TEST_DB,
    );
  });
  return prepared;
}

/**
 * Runs the set-up under an advisory lock, so that test workers (processes) preparing at once do
 * not trip over each other's CREATE and GRANT ("tuple concurrently updated").
 */
async function withSetupLock(setUp: () => Promise<void>): Promise<void> {
  const lock = new pg.Client({ ...MAIN_PG, user: 'postgres', database: 'postgres' });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(727274)');
    await setUp();
  } finally {
    await lock.end();
  }
}

/** A TCP relay in front of a server that counts the connections it was asked to open. */
export interface CountingProxy {
  port: number;
  readonly connections: number;
  close(): Promise<void>;
}

export async function countingProxy(target: { host: string; port: number }): Promise<CountingProxy> {
  let connections = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    connections += 1;
    const upstream = connect(target);
    open.add(client);
    open.add(upstream);
    client.pipe(upstream).pipe(client);
    const done = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A second PostgreSQL that asks for real passwords (the machine's trusts local users): initdb into
 * a directory of its own as the `postgres` OS user, pg_hba.conf with one line per login and method
 * (jit_scram: scram-sha-256, jit_md5: md5, jit_clear: password), on a loopback port. Started once
 * and left running for the next test run (like the machine's Redis); `.ci/run` starts it too.
 * Undefined where it cannot be made (no PostgreSQL binaries, not root): the tests that need it skip.
 */
export const SCRATCH_PG = {
  host: '127.0.0.1',
  port: 54329,
  dir: '/tmp/jitgate-test-postgres',
  bin: '/usr/lib/postgresql/15/bin',
  passwords: {
    jit_scram: 'scram-secret-1',
    jit_md5: 'md5-secret-2',
    jit_clear: 'clear-secret-3',
    jit_tls: 'tls-secret-4',
  },
  /** Its TLS certificate (self-signed for 127.0.0.1), which is also the CA to verify it with. */
  cert: '/tmp/jitgate-test-postgres/server.crt',
};

const HBA = [
  'local all postgres trust',
  'host all postgres 127.0.0.1/32 trust',
  'hostssl all jit_tls 127.0.0.1/32 scram-sha-256',
  'host all jit_scram 127.0.0.1/32 scram-sha-256',
  'host all jit_md5 127.0.0.1/32 md5',
  'host all jit_clear 127.0.0.1/32 password',
  '',
].join('\n');

/** Enough for the 100 concurrent sessions test and the rest running beside it. */
const SCRATCH_MAX_CONNECTIONS = 300;

async function scratchMaxConnections(): Promise<number> {
  const client = new pg.Client({
    host: SCRATCH_PG.host,
    port: SCRATCH_PG.port,
    user: 'postgres',
    database: 'postgres',
  });
  await client.connect();
  try {
    return Number((await client.query('SHOW max_connections')).rows[0].max_connections);
  } finally {
    await client.end();
  }
}

async function scratchAnswers(): Promise<boolean> {
  try {
    await run(`${SCRATCH_PG.bin}/pg_isready`, ['-h', SCRATCH_PG.host, '-p', String(SCRATCH_PG.port), '-q']);
    return true;
  } catch {
    return false;
  }
}

const asPostgres = (cmd: string) => run('su', ['postgres', '-c', cmd], { timeout: 30_000 });

let scratch: Promise<boolean> | undefined;

export function scratchPostgres(): Promise<boolean> {
  scratch ??= (async () => {
    if (!existsSync(`${SCRATCH_PG.bin}/initdb`) || process.getuid?.() !== 0) return false;
    const up = await scratchAnswers();
    if (!up || (await scratchMaxConnections()) < SCRATCH_MAX_CONNECTIONS) {
      const lock = `${SCRATCH_PG.dir}.lock`;
      let mine = false;
      try {
        mkdirSync(lock);
        mine = true;
      } catch {}
      if (mine) {
        try {
          const { dir, bin, port } = SCRATCH_PG;
          if (!existsSync(`${dir}/PG_VERSION`)) {
            rmSync(dir, { recursive: true, force: true });
            mkdirSync(dir, { recursive: true });
            await run('chown', ['postgres:postgres', dir]);
            await asPostgres(`${bin}/initdb -D ${dir} -U postgres --auth=trust -E UTF8 --no-sync >/dev/null`);
            writeFileSync(`${dir}/pg_hba.conf`, HBA);
          }
          if (await scratchAnswers()) await asPostgres(`${bin}/pg_ctl -D ${dir} -m fast -w stop >/dev/null`);
          await asPostgres(
            `${bin}/pg_ctl -D ${dir} -l ${dir}/log -w -o "-p ${port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=${SCRATCH_MAX_CONNECTIONS}" start >/dev/null`,
          );
        } finally {
          rmSync(lock, { recursive: true, force: true });
        }
      }
      for (let i = 0; i < 100 && !(await scratchAnswers()); i += 1)
        await new Promise((r) => setTimeout(r, 100));
    }
    const client = new pg.Client({
      host: SCRATCH_PG.host,
      port: SCRATCH_PG.port,
      user: 'postgres',
      database: 'postgres',
    });
    await client.connect();
    try {
      const p = SCRATCH_PG.passwords;
      await client.query(`SET password_encryption = 'scram-sha-256'`);
      await ensureLogin(client, 'jit_scram', p.jit_scram);
      await ensureLogin(client, 'jit_clear', p.jit_clear);
      await ensureLogin(client, 'jit_tls', p.jit_tls);
      await client.query(`SET password_encryption = 'md5'`);
      await ensureLogin(client, 'jit_md5', p.jit_md5);
      await ensureTls(client);
    } finally {
      await client.end();
    }
    return true;
  })();
  return scratch;
}

async function ensureLogin(client: pg.Client, name: string, password: string): Promise<void> {
  try {
    await client.query(`CREATE ROLE ${name} LOGIN`);
  } catch (err) {
    if ((err as { code?: string }).code !== '42710' && (err as { code?: string }).code !== '23505') throw err;
  }
  await client.query(`ALTER ROLE ${name} PASSWORD '${password}'`);
}

/**
 * TLS on the scratch server, for the gateway's TLS logins upstream: a self-signed certificate for
 * 127.0.0.1 (made once with the openssl command), `ssl = on`, and the pg_hba.conf lines of HBA
 * (jit_tls only over TLS); both take effect with a reload.
 */
async function ensureTls(client: pg.Client): Promise<void> {
  const { dir } = SCRATCH_PG;
  if (!existsSync(`${dir}/server.key`)) {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      `${dir}/server.key`,
      '-out',
      `${dir}/server.crt`,
    ]);
    await run('chown', ['postgres:postgres', `${dir}/server.key`, `${dir}/server.crt`]);
    await run('chmod', ['600', `${dir}/server.key`]);
  }
  writeFileSync(`${dir}/pg_hba.conf`, HBA);
  const ssl = (await client.query('SHOW ssl')).rows[0].ssl;
  if (ssl !== 'on') await client.query(`ALTER SYSTEM SET ssl = 'on'`);
  await client.query('SELECT pg_reload_conf()');
  for (let i = 0; i < 50 && (await client.query('SHOW ssl')).rows[0].ssl !== 'on'; i += 1) {
    await new Promise((r) => setTimeout(r, 100));
  }
}
