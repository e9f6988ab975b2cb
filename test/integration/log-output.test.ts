import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

/** Runs a few lines of TypeScript with the real logger on standard output; answers what it printed. */
async function printed(body: string): Promise<string[]> {
  const script = `import { createLogger } from './shared/log.ts';\nconst log = createLogger('t', 'info');\n${body}`;
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: process.cwd(),
  });
  return stdout.split('\n').filter(Boolean);
}

describe('log lines on standard output, written once per turn of the event loop', () => {
  it('when many lines are logged in one turn, then every one of them is printed whole, in order', async () => {
    const lines = await printed(
      `for (let i = 0; i < 500; i++) log.info({ i, pad: 'x'.repeat(i % 50) }, 'line');`,
    );
    expect(lines).toHaveLength(500);
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([...Array(500).keys()]);
  });

  it('when the process exits in the same turn as it logs (process.exit), then the lines are still printed', async () => {
    const lines = await printed(
      `log.error({ why: 'bad' }, 'stopping'); log.info('last'); process.exit(3);`,
    ).catch((err: { stdout: string; code: number }) => {
      expect(err.code).toBe(3);
      return err.stdout.split('\n').filter(Boolean);
    });
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['stopping', 'last']);
  });

  it('when a line is logged and the process then waits, then the line is printed without waiting for more', async () => {
    const lines = await printed(
      `log.info('first'); setTimeout(() => { process.stdout.write('marker\\n'); log.info('second'); }, 50);`,
    );
    expect(lines.map((l) => (l.startsWith('{') ? (JSON.parse(l) as { msg: string }).msg : l))).toEqual([
      'first',
      'marker',
      'second',
    ]);
  });
});
