import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A private `redis-server` that a fault test may stop, kill, freeze and bring back on the same port,
 * without touching the shared Redis on 6379 that every other test uses. No persistence is configured
 * (`--save '' --appendonly no`); `stop({ keepData: true })` asks for one explicit SAVE on shutdown,
 * so that a Redis that "comes back" can come back with what it held.
 *
 * @example
 *   const redis = await startRedisServer();
 *   const client = connectRedis(redis.url);
 *   await redis.stop();    // clients now fail fast
 *   await redis.start();   // same port; clients reconnect on their own
 *   await redis.close();
 */
export interface RedisServer {
  url: string;
  port: number;
  /** True while the process is running (also while frozen). */
  running(): boolean;
  /** Starts it again on the same port (after stop or kill) and waits until it answers PING. */
  start(): Promise<void>;
  /** SHUTDOWN (with one SAVE when `keepData`), then waits for the process to exit. */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /**
   * SIGKILL: gone at once, like a crashed host. It comes back with what its last `stop({ keepData })`
   * saved, unless `loseData` also deletes that snapshot (a host that comes back empty).
   */
  kill(options?: { loseData?: boolean }): Promise<void>;
  /** SIGSTOP: the port still accepts connections but nothing answers (a hung Redis). */
  freeze(): void;
  /** SIGCONT after freeze. */
  thaw(): void;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

/** `args`: more of redis-server's options, e.g. `['--maxmemory', '20mb', '--maxmemory-policy', 'noeviction']`. */
export async function startRedisServer(options: { args?: string[] } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-redis-'));
  let child: ChildProcess | undefined;
  let frozen = false;

  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => c.once('exit', () => resolve()));

  async function start(): Promise<void> {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const c = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--dbfilename',
        'dump.rdb',
        '--loglevel',
        'warning',
        ...(options.args ?? []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    c.stderr?.resume();
    child = c;
    frozen = false;
    const until = Date.now() + 10_000;
    while (!(await pings(port))) {
      if (c.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${c.exitCode}`);
      if (Date.now() > until) throw new Error(`redis-server on ${port} did not answer within 10 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function stop(options: { keepData?: boolean } = {}): Promise<void> {
    const c = child;
    if (!c) return;
    if (frozen) thaw();
    const done = exited(c);
    try {
      await command(port, options.keepData ? 'SHUTDOWN SAVE' : 'SHUTDOWN NOSAVE');
    } catch {
      c.kill('SIGTERM');
    }
    await done;
  }

  async function kill(options: { loseData?: boolean } = {}): Promise<void> {
    const c = child;
    if (c) {
      const done = exited(c);
      if (frozen) c.kill('SIGCONT');
      c.kill('SIGKILL');
      await done;
      frozen = false;
    }
    if (options.loseData) rmSync(join(dir, 'dump.rdb'), { force: true });
  }

  function freeze(): void {
    if (child?.kill('SIGSTOP')) frozen = true;
  }

  function thaw(): void {
    if (child?.kill('SIGCONT')) frozen = false;
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    start,
    stop,
    kill,
    freeze,
    thaw,
    async close() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** One inline command over a raw socket; resolves with the first reply line. */
function command(port: number, line: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timed out'));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      if (data.includes('\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data.split('\r\n')[0] ?? '');
      }
    });
    // SHUTDOWN answers nothing: the connection just closes.
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(data.split('\r\n')[0] ?? '');
    });
    socket.connect(port, '127.0.0.1', () => socket.write(`${line}\r\n`));
  });
}

async function pings(port: number): Promise<boolean> {
  try {
    return (await command(port, 'PING', 500)) === '+PONG';
  } catch {
    return false;
  }
}
