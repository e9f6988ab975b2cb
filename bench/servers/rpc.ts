import { type ChildProcess, fork } from 'node:child_process';

/**
 * The bench's servers run in child processes (so that each has its own event loop and can be
 * profiled alone) and are driven over Node's IPC channel: `{id, op, args}` in, `{id, ok, value}` out.
 */
type Handler = (args: Record<string, unknown>) => unknown;

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

/** In a child: answers the parent's calls, then announces `info` as ready. */
export function serveRpc(info: Record<string, unknown>, handlers: Record<string, Handler>): void {
  process.on('message', async (msg: { id: number; op: string; args?: Record<string, unknown> }) => {
    const handler = handlers[msg.op];
    let reply: Reply;
    try {
      if (!handler) throw new Error(`unknown op ${msg.op}`);
      reply = { id: msg.id, ok: true, value: await handler(msg.args ?? {}) };
    } catch (err) {
      reply = {
        id: msg.id,
        ok: false,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      };
    }
    process.send?.(reply);
  });
  // The parent going away ends the child (no orphans holding ports).
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true, info });
}

export interface RpcChild<I> {
  info: I;
  pid: number;
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  /** Asks the child to stop (op `stop`), then waits for it to exit. */
  stop(): Promise<void>;
}

/** Forks a TypeScript child under tsx and waits for it to be ready. */
export function spawnRpcChild<I>(
  file: URL,
  options: { env?: Record<string, string>; execArgv?: string[]; stdout?: 'ignore' | 'inherit' } = {},
): Promise<RpcChild<I>> {
  const child: ChildProcess = fork(file, [], {
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    env: { ...process.env, ...options.env },
    // The authorizer logs a JSON line per request: it goes to /dev/null, as a real deployment's
    // stdout would go to a collector, so the cost of writing it is still paid.
    stdio: ['ignore', options.stdout ?? 'ignore', 'inherit', 'ipc'],
  });
  let seq = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  return new Promise((resolve, reject) => {
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.once('exit', (code) => {
      for (const p of pending.values()) p.reject(new Error(`child exited (${code})`));
      reject(new Error(`child ${file.pathname} exited before it was ready (${code})`));
    });
    child.on('message', (msg: Reply | { ready: true; info: I }) => {
      if ('ready' in msg) {
        resolve({
          info: msg.info,
          pid: child.pid ?? 0,
          call<T>(op: string, args: Record<string, unknown> = {}) {
            seq += 1;
            const id = seq;
            return new Promise<T>((res, rej) => {
              pending.set(id, { resolve: res as (v: unknown) => void, reject: rej });
              child.send({ id, op, args });
            });
          },
          async stop() {
            if (child.exitCode !== null) return;
            seq += 1;
            child.send({ id: seq, op: 'stop', args: {} });
            const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
            await exited;
            clearTimeout(timer);
          },
        });
        return;
      }
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(msg.error));
    });
  });
}
