import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../scripts/cli.js';
import { type LaunchPsql, run as psqlCli } from '../../scripts/psql.js';
import { type PgHarness, PUBLIC_URL, startPgHarness } from '../support/postgres-harness.js';

let h: PgHarness;
beforeAll(async () => {
  h = await startPgHarness();
});
afterAll(async () => {
  await h?.close();
});

async function redeemLink(resource: string, role?: string): Promise<{ link: string; grantId: string }> {
  const { grantId } = await h.grant(resource, role);
  const code = await h.store.codes.createRedeemCode(grantId as never);
  return { link: `${h.url}/_jitgate/redeem?code=${encodeURIComponent(code)}`, grantId };
}

function captured(): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    env: process.env,
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
  };
  return io;
}

/** psql with its output captured (the command itself runs it in the terminal). */
function pipedPsql(io: { out: string; err: string }): LaunchPsql {
  return (args, env) =>
    new Promise((resolve) => {
      const child = spawn('psql', ['-X', '-A', '-t', ...args], { env });
      child.stdout.on('data', (d) => (io.out += d));
      child.stderr.on('data', (d) => (io.err += d));
      child.on('close', (code) => resolve(code ?? 1));
    });
}

describe('getting connected to a database grant', () => {
  it('when the redeem link is asked for JSON, then it gives the token and where psql connects', async () => {
    const { link, grantId } = await redeemLink('app-db', 'readonly');
    const body = (await (await fetch(link, { headers: { accept: 'application/json' } })).json()) as Record<
      string,
      unknown
    >;
    expect(body).toMatchObject({ tokenType: 'Bearer', resource: 'app-db', role: 'readonly', grantId });
    expect(body.postgres).toEqual({
      host: '127.0.0.1',
      port: h.port,
      dbname: 'app-db',
      sslmode: 'disable',
      psql: `host=127.0.0.1 port=${h.port} dbname=app-db user=jitgate sslmode=disable`,
    });
  });

  it('when the link is opened in a browser, then it shows the psql commands and is not used up', async () => {
    const { link } = await redeemLink('app-db', 'readonly');
    const page = await fetch(link, { headers: { accept: 'text/html' } });
    const html = (await page.text()).replace(/&(#39|#x27|quot|amp);/g, (_m, e: string) =>
      e === 'quot' ? '"' : e === 'amp' ? '&' : "'",
    );
    expect(page.status).toBe(200);
    expect(html).toContain('app-db is a database: connect with psql');
    // The link as the DM gives it: on the public URL.
    expect(html).toContain(`npm run psql -- '${PUBLIC_URL}/_jitgate/redeem${new URL(link).search}'`);
    expect(html).toContain(`psql "host=127.0.0.1 port=${h.port} dbname=app-db`);
    expect(html).not.toMatch(/Set-Cookie/i);
    expect(page.headers.get('set-cookie')).toBeNull();
    // Still good once, from the command line.
    expect((await fetch(link, { headers: { accept: 'application/json' } })).status).toBe(200);
  });

  it('when npm run psql is given the link, then psql runs with the token as its password and sees the data', async () => {
    const { link } = await redeemLink('app-db', 'readonly');
    const io = captured();
    const code = await psqlCli(
      [link, '-c', 'SELECT current_user, count(*) > 0 FROM items'],
      io,
      pipedPsql(io),
    );
    expect(io.err).toContain('Connecting to app-db/readonly until');
    expect(code).toBe(0);
    expect(io.out.trim()).toBe('jit_test_ro|t');
  });

  it('when npm run psql is asked to --print, then it prints the two lines to connect by hand, which work', async () => {
    const { link } = await redeemLink('app-db', 'readwrite');
    const io = captured();
    expect(await psqlCli([link, '--print'], io)).toBe(0);
    const [, exportLine, psqlLine] = io.out.trim().split('\n');
    expect(exportLine).toMatch(/^export PGPASSWORD='[\w.-]+'$/);
    expect(psqlLine).toBe(`psql "host=127.0.0.1 port=${h.port} dbname=app-db user=jitgate sslmode=disable"`);
    const token = exportLine!.slice("export PGPASSWORD='".length, -1);
    const client = h.client(token);
    await client.connect();
    await client.end();
  });

  it.each([
    ['no link', [], 2, 'usage: npm run psql'],
    ['something else than a link', ['postgres://x'], 2, 'not a jitgate redeem link'],
  ])('when npm run psql gets %s, then it says how to use it', async (_what, argv, code, words) => {
    const io = captured();
    expect(await psqlCli(argv, io)).toBe(code);
    expect(io.err).toContain(words);
  });

  it('when the link was used already, then npm run psql says so and runs nothing', async () => {
    const { link } = await redeemLink('app-db', 'readonly');
    await fetch(link, { headers: { accept: 'application/json' } });
    const io = captured();
    let launched = false;
    const launch = async () => {
      launched = true;
      return 0;
    };
    expect(await psqlCli([link], io, launch)).toBe(1);
    expect(io.err).toContain('jitgate refused the link');
    expect(launched).toBe(false);
  });

  it('when the link is for an HTTP resource, then npm run psql says it is not a database', async () => {
    const { link } = await redeemLink('web');
    const io = captured();
    expect(await psqlCli([link], io, async () => 0)).toBe(1);
    expect(io.err).toContain('web is not a database');
  });
});
