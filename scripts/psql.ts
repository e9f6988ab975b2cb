/**
 * `npm run psql -- '<redeem link>' [--print] [psql arguments…]` connects to a PostgreSQL resource
 * through jitgate: it redeems the one-time link (as `curl -H 'Accept: application/json'` would),
 * then runs psql with the access token in PGPASSWORD (never on psql's command line, where `ps`
 * would show it) and the connection string the authorizer gave. Arguments after the link go to
 * psql (`-c 'SELECT 1'`). `--print` runs nothing and prints the two lines to connect by hand (the
 * token among them: keep them to yourself). The link is single use, so a line to connect again
 * until the grant ends goes to stderr either way.
 * Exit codes: psql's own; 1 the link was refused or the grant is not a database's; 2 bad usage.
 */

import { spawn } from 'node:child_process';
import { type CliIo, runWhenEntry } from './cli.js';

const USAGE = [
  "usage: npm run psql -- '<redeem link>' [--print] [psql arguments…]",
  '  <redeem link>  the one-time link from your jitgate DM (single use, valid 10 minutes)',
  '  --print        print `export PGPASSWORD=…` and the psql command instead of running psql',
  "  e.g. npm run psql -- 'https://access.example.com/_jitgate/redeem?code=…' -c 'SELECT 1'",
].join('\n');

/** Runs psql with these arguments and environment; answers its exit code. */
export type LaunchPsql = (args: string[], env: Record<string, string | undefined>) => Promise<number>;

const launchInTerminal: LaunchPsql = (args, env) =>
  new Promise((resolve) => {
    const child = spawn(env.PSQL ?? 'psql', args, { stdio: 'inherit', env });
    child.on('error', (err) => {
      process.stderr.write(
        `cannot run psql (${(err as NodeJS.ErrnoException).code ?? err.message}); install the PostgreSQL client or use --print\n`,
      );
      resolve(127);
    });
    child.on('close', (code) => resolve(code ?? 1));
  });

interface Redeemed {
  token: string;
  resource: string;
  role: string;
  expiresAt: string;
  grantId: string;
  postgres?: { psql: string };
}

export async function run(argv: string[], io: CliIo, launch: LaunchPsql = launchInTerminal): Promise<number> {
  const link = argv[0];
  if (
    !link ||
    link === '--help' ||
    link === '-h' ||
    !URL.canParse(link) ||
    !new URL(link).searchParams.has('code')
  ) {
    io.stderr(
      `${link && link !== '--help' && link !== '-h' ? 'That is not a jitgate redeem link.\n' : ''}${USAGE}\n`,
    );
    return 2;
  }
  const rest = argv.slice(1);
  const print = rest.includes('--print');
  const psqlArgs = rest.filter((a) => a !== '--print');
  let answer: Response;
  try {
    answer = await fetch(link, { headers: { accept: 'application/json' }, redirect: 'manual' });
  } catch (err) {
    io.stderr(`Cannot reach jitgate at ${new URL(link).origin} (${(err as Error).message}).\n`);
    return 1;
  }
  const body = (await answer.json().catch(() => undefined)) as
    | (Redeemed & { error?: string; message?: string; hint?: string })
    | undefined;
  if (!answer.ok || !body?.token) {
    io.stderr(
      `jitgate refused the link: ${body?.message ?? `HTTP ${answer.status}`}${body?.hint ? `\n${body.hint}` : ''}\n`,
    );
    return 1;
  }
  if (!body.postgres) {
    io.stderr(
      `${body.resource} is not a database behind jitgate's PostgreSQL gateway (or the gateway is off): use the token as a bearer token instead.\n`,
    );
    return 1;
  }
  const until = `${body.resource}/${body.role} until ${body.expiresAt} (grant ${body.grantId})`;
  const again = [`export PGPASSWORD='${body.token}'`, `psql "${body.postgres.psql}"`];
  if (print) {
    io.stdout(`# ${until}; the token is the password, keep it to yourself\n${again.join('\n')}\n`);
    return 0;
  }
  io.stderr(
    `Connecting to ${until}. The link is now used; to connect again until then:\n  ${again.join('\n  ')}\n`,
  );
  return launch([body.postgres.psql, ...psqlArgs], { ...io.env, PGPASSWORD: body.token });
}

runWhenEntry(import.meta.url, run);
