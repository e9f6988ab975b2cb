import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgHarness, startPgHarness } from '../support/postgres-harness.js';

const run = promisify(execFile);

/** A self-signed certificate for 127.0.0.1, made with the openssl command. */
async function selfSigned(): Promise<{ cert: string; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-tls-'));
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]);
  return { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

/** psql as a person would run it, the token in PGPASSWORD. */
function psql(h: PgHarness, token: string, conn: string, sql: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(
      'psql',
      [
        `host=${h.host} port=${h.port} user=alice ${conn}`,
        '-X',
        '-A',
        '-t',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        sql,
      ],
      {
        env: { ...process.env, PGPASSWORD: token, PGCONNECT_TIMEOUT: '5' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let h: PgHarness;
let tls: { cert: string; key: string };
beforeAll(async () => {
  tls = await selfSigned();
  h = await startPgHarness({ tls });
});
afterAll(async () => {
  await h?.close();
});

describe('PostgreSQL gateway with TLS, from psql and pg', () => {
  it('when psql connects with sslmode=require and a granted token, then it sees data over TLS', async () => {
    const { token } = await h.grant('app-db', 'readonly');
    const r = await psql(h, token, 'dbname=app-db sslmode=require', 'SELECT name FROM items WHERE id = 1');
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toBe('first');
  });

  it('when psql verifies the gateway certificate (verify-full), then it connects', async () => {
    const { token } = await h.grant('app-db', 'readonly');
    const r = await psql(h, token, `dbname=app-db sslmode=verify-full sslrootcert=${tls.cert}`, 'SELECT 1');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('1');
  });

  it('when a client will not use TLS, then it is refused with a message saying to use sslmode=require', async () => {
    const { token } = await h.grant('app-db', 'readonly');
    const r = await psql(h, token, 'dbname=app-db sslmode=disable', 'SELECT 1');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('jitgate requires an encrypted connection');
    expect(r.stderr).toContain('sslmode=require');
  });

  it('when psql is refused, then it prints the jitgate code and the hint', async () => {
    const { token } = await h.grant('other-db');
    const r = await psql(h, token, 'dbname=app-db sslmode=require', 'SELECT 1');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('FATAL:  jitgate wrong_resource');
    expect(r.stderr).toContain('HINT:  /access app-db/readonly 1h <reason>');
  });

  it('when psql writes on a read-only role, then the database refuses it', async () => {
    const { token } = await h.grant('app-db', 'readonly');
    const r = await psql(h, token, 'dbname=app-db sslmode=require', "INSERT INTO items (name) VALUES ('x')");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('read-only transaction');
  });

  it('when the pg client connects with ssl, then it works, and the certificate is the one configured', async () => {
    const { token } = await h.grant('app-db', 'readwrite');
    const client = h.client(token, 'app-db', { ssl: { ca: readFileSync(tls.cert, 'utf8') } });
    await client.connect();
    expect((await client.query('SELECT 2 AS two')).rows[0].two).toBe(2);
    await client.end();
  });
});
