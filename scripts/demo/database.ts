import { spawn } from 'node:child_process';
import { exportAudit } from '../../shared/audit/chain.js';
import type { Narrator } from './signed-in.js';
import { DEMO_PEOPLE, type LocalStack } from './stack.js';
import { WebClient } from './web-client.js';

/**
 * The demo's database part, run when a PostgreSQL answers on 127.0.0.1:5432 for the `postgres` user
 * without a password (a developer machine's, or CI's) and psql is installed: a small `jitgate_demo`
 * database with an `orders` table and a login that may only read it, put behind jitgate as
 * `prod-db`. Dana asks for it, Alice approves, Dana runs psql through the gateway, cannot write, and
 * is cut off in the middle of a query when Alice revokes.
 */
export interface DemoDatabase {
  host: string;
  port: number;
  database: string;
  login: string;
}

const DEMO_DB: DemoDatabase = {
  host: '127.0.0.1',
  port: 5432,
  database: 'jitgate_demo',
  login: 'jitgate_demo_ro',
};

/** Sets the demo database up, or says why the database part is skipped. */
export async function prepareDemoDatabase(): Promise<{ db: DemoDatabase } | { skipped: string }> {
  if (!(await hasPsql())) return { skipped: 'psql is not installed (postgresql-client)' };
  let pg: typeof import('pg');
  try {
    pg = (await import('pg')).default as unknown as typeof import('pg');
  } catch {
    return { skipped: 'the pg package is not installed (npm install, with dev dependencies)' };
  }
  const as = async (database: string, sql: string) => {
    const client = new pg.Client({
      host: DEMO_DB.host,
      port: DEMO_DB.port,
      user: 'postgres',
      database,
      connectionTimeoutMillis: 2_000,
    });
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  try {
    await as(
      'postgres',
      `DO $$ BEGIN
         IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${DEMO_DB.login}') THEN CREATE ROLE ${DEMO_DB.login} LOGIN; END IF;
       EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;`,
    );
    await as('postgres', `CREATE DATABASE ${DEMO_DB.database}`).catch((err: { code?: string }) => {
      if (err.code !== '42P04') throw err;
    });
    await as(
      DEMO_DB.database,
      `CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, item text NOT NULL, total numeric NOT NULL);
       INSERT INTO orders VALUES (1, 'keyboard', 49.90), (2, 'monitor', 189.00), (3, 'cable', 7.50) ON CONFLICT DO NOTHING;
       GRANT CONNECT ON DATABASE ${DEMO_DB.database} TO ${DEMO_DB.login};
       GRANT USAGE ON SCHEMA public TO ${DEMO_DB.login};
       GRANT SELECT ON orders TO ${DEMO_DB.login};`,
    );
  } catch (err) {
    return {
      skipped: `no PostgreSQL lets the postgres user in on ${DEMO_DB.host}:${DEMO_DB.port} (${(err as Error).message})`,
    };
  }
  return { db: DEMO_DB };
}

/** The resource the demo policy adds for it. */
export function demoDatabasePolicy(db: DemoDatabase): string {
  return `
  prod-db:
    kind: postgres
    description: Production orders database (a local PostgreSQL in this demo)
    upstream: postgres://${db.host}:${db.port}/${db.database}
    approvers: { users: [${DEMO_PEOPLE.alice.id}] }
    roles:
      readonly: { dbUser: ${db.login}, readOnly: true }
`;
}

export async function databaseWalkThrough(stack: LocalStack, n: Narrator): Promise<void> {
  const { dana, alice } = DEMO_PEOPLE;
  const { standin } = stack;
  n.heading(`${dana.realName} asks for the production database`);
  n.note("/access prod-db/readonly 15m INC-42 checking yesterday's orders");
  await stack.command(dana.id, "prod-db/readonly 15m INC-42 checking yesterday's orders");
  const posted = await standin.waitFor(
    'chat.postMessage',
    (c) => c.body.channel === 'C0APPROVALS' && JSON.stringify(c.body).includes('prod-db'),
    5_000,
  );
  const requestId = JSON.stringify(posted.body.blocks).match(/r_[a-z2-7]{26}/)?.[0];
  n.expect(requestId, 'the approval message carries the request id');
  await stack.click(alice.id, 'jit_approve', requestId);
  const dm = await standin.waitFor(
    'chat.postMessage',
    (c) => String(c.body.text ?? '').includes('the database prod-db'),
    5_000,
  );
  n.show(dm, `${alice.name} approved; DM to ${dana.name}:`);
  const grantId = /g_[a-z2-7]{26}/.exec(JSON.stringify(dm.body))?.[0];
  n.expect(grantId, 'the DM names the grant');

  const { password, conninfo } = stack.idp ? await fromSignedInBrowser(n, dm) : await fromTerminal(n, dm);
  n.heading('psql through the gateway: the token is the password');
  n.note(`$ PGPASSWORD=… psql "${conninfo}" -c 'SELECT id, item, total FROM orders ORDER BY id'`);
  const read = await psql(conninfo, password, ['-c', 'SELECT id, item, total FROM orders ORDER BY id']);
  n.note(
    read.stdout
      .trimEnd()
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );
  n.expect(
    read.code === 0 && read.stdout.includes('keyboard'),
    `psql read the orders (exit ${read.code}: ${read.stderr.trim()})`,
  );
  n.ok('she sees the data, as the read-only login jitgate logged in with; she never saw its password');

  n.heading('A write on the read-only role');
  n.note(`$ psql "${conninfo}" -c "DELETE FROM orders"`);
  const write = await psql(conninfo, password, ['-c', 'DELETE FROM orders']);
  n.expect(
    write.code !== 0 && /read-only transaction|permission denied/.test(write.stderr),
    'the database refuses the write',
  );
  n.ok(`refused by the database: ${write.stderr.trim().split('\n')[0]}`);

  n.heading(`${alice.realName} revokes while a query is running`);
  n.note(`$ psql "${conninfo}" -c 'SELECT pg_sleep(60)'   (a long query)`);
  const long = psql(conninfo, password, ['-c', 'SELECT pg_sleep(60)']);
  await new Promise((r) => setTimeout(r, 700));
  await stack.click(alice.id, 'jit_revoke', grantId);
  const cut = await long;
  n.expect(
    cut.code !== 0 && cut.stderr.includes(`your grant ${grantId} was revoked`),
    `psql was cut off (${cut.stderr.trim()})`,
  );
  n.ok(
    `psql says: ${
      cut.stderr
        .trim()
        .split('\n')
        .find((l) => l.includes('FATAL')) ?? cut.stderr.trim()
    }`,
  );
  const again = await psql(conninfo, password, ['-c', 'SELECT 1']);
  n.expect(again.code !== 0 && again.stderr.includes('jitgate grant_revoked'), 'the token no longer logs in');
  n.ok(
    `logging in again: ${again.stderr
      .trim()
      .split('\n')
      .find((l) => l.includes('FATAL'))
      ?.replace(/^.*FATAL:\s+/, 'FATAL: ')}`,
  );

  const types: string[] = [];
  for await (const entry of exportAudit(stack.redis, stack.keys)) {
    if (entry.event.grantId === grantId) types.push(String(entry.event.type));
  }
  n.expect(
    types.includes('db.session.started') && types.includes('db.session.ended'),
    'the sessions are audited',
  );
  n.ok(`audited: ${[...new Set(types)].join(', ')}`);
}

async function fromTerminal(
  n: Narrator,
  dm: { body: Record<string, unknown> },
): Promise<{ password: string; conninfo: string }> {
  const link = /https?:\/\/[^\s|>"'`]+\/_jitgate\/redeem\?code=[\w-]+/.exec(JSON.stringify(dm.body))?.[0];
  n.expect(link, 'the DM holds the redeem link');
  n.note(`$ npm run psql -- '<link>'   (redeems it, then runs psql with the token in PGPASSWORD)`);
  const { run } = await import('../psql.js');
  let printed = '';
  const code = await run([link, '--print'], {
    stdout: (t) => (printed += t),
    stderr: () => {},
    env: process.env,
  });
  const password = /export PGPASSWORD='([\w.-]+)'/.exec(printed)?.[1];
  const conninfo = /psql "([^"]+)"/.exec(printed)?.[1];
  n.expect(code === 0 && password && conninfo, 'the link gave a token and a connection string');
  n.ok(`the link gave the token (not shown) and where to connect: ${conninfo}`);
  return { password, conninfo };
}

async function fromSignedInBrowser(
  n: Narrator,
  dm: { body: Record<string, unknown> },
): Promise<{ password: string; conninfo: string }> {
  const link = /https?:\/\/[^\s|>"'`]+\/_jitgate\/redeem\?code=[\w-]+(&amp;|&)for=command-line/
    .exec(JSON.stringify(dm.body))?.[0]
    ?.replace('&amp;', '&');
  n.expect(link, 'the DM holds the command-line link');
  n.note(`she opens ${link.replace(/code=[\w-]+/, 'code=…')} in her browser, signed in`);
  const page = await new WebClient().open(link);
  const body = page.body.replace(/&(#39|#x27|quot|amp);/g, (_m, e: string) =>
    e === 'quot' ? '"' : e === 'amp' ? '&' : "'",
  );
  const password = /export PGPASSWORD='([\w.-]+)'/.exec(body)?.[1];
  const conninfo = /psql "([^"]+)"/.exec(body)?.[1];
  n.expect(
    page.status === 200 && password && conninfo,
    `her browser was shown the token and the psql command (HTTP ${page.status})`,
  );
  n.ok(`the page showed the token once (not shown here) and: psql "${conninfo}"`);
  return { password, conninfo };
}

function psql(
  conninfo: string,
  password: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('psql', [conninfo, '-X', '-v', 'ON_ERROR_STOP=1', ...args], {
      env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', () => resolve({ code: 127, stdout, stderr: 'psql is not installed' }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

function hasPsql(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('psql', ['--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}
