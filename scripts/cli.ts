import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * What a command-line tool (`npm run audit|policy|keys`) reads and writes, passed in so that tests
 * run it in process and read what it printed; the process's own when run from the shell.
 */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
}

/** A tool's whole run: the arguments after its name in, the exit code out (it never exits itself). */
export type CliRun = (argv: string[], io: CliIo) => Promise<number> | number;

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  };
}

/**
 * Runs `run` with the process's arguments and streams when the module at `moduleUrl` is the one Node
 * was started with (`tsx scripts/audit.ts`, `node dist/scripts/audit.js`), and sets the exit code it
 * answers; imported (by a test), it does nothing.
 *
 * @example runWhenEntry(import.meta.url, run);
 */
export function runWhenEntry(moduleUrl: string, run: CliRun): void {
  if (!isEntry(moduleUrl)) return;
  const io = processIo();
  Promise.resolve()
    .then(() => run(process.argv.slice(2), io))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        // Each run maps its own failures to messages; this is the last resort, and names no values.
        io.stderr(`failed unexpectedly (${err instanceof Error ? err.name : typeof err})\n`);
        process.exitCode = 1;
      },
    );
}

function isEntry(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}
