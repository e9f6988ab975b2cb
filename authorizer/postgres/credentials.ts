import { readFile } from 'node:fs/promises';
import type { DbLogin } from '../../shared/policy/index.js';

/**
 * The password of a role's database login, read when a session logs in (so a rotated file or a
 * restarted process with a new variable takes effect at the next login). Undefined when the policy
 * gives none (a server that trusts the gateway's address). Throws with a message for the operator's
 * log, never for the client: it names the file or variable, never the password.
 */
export async function dbPassword(
  login: DbLogin,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string | undefined> {
  const source = login.password;
  if (source === undefined) return undefined;
  if ('env' in source) {
    const value = env[source.env];
    if (value === undefined || value === '') {
      throw new Error(`the environment variable ${source.env} (the password of ${login.user}) is not set`);
    }
    return value;
  }
  let text: string;
  try {
    text = await readFile(source.file, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read ${source.file} (the password of ${login.user}): ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
    );
  }
  // Secret files usually end with a newline that is not part of the password.
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new Error(`${source.file} (the password of ${login.user}) is empty`);
  return password;
}
