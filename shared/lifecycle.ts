import { readFileSync } from 'node:fs';
import { type FileWatchTimings, watchFileContent } from './file-watch.js';
import type { Logger } from './log.js';
import { loadPolicy } from './policy/load.js';
import type { Policy } from './policy/types.js';

/** The policy a process runs with, kept up to date with its file. */
export interface LivePolicy {
  current: () => Policy;
  /** Re-reads the file now (SIGHUP): true when it was taken, false when it is bad (the current one stays). */
  reload(): boolean;
  /** Stops following the file. */
  stop(): void;
}

/**
 * The policy a process runs with, following its file: a change takes effect without a restart,
 * however the process was started (the file's folder is watched, so an editor's rename, a
 * `kubectl apply` of a ConfigMap and `cp` all count; see `watchFileContent`), and `reload` re-reads
 * it on demand (the entry files call it on SIGHUP). A bad file is reported and the current policy
 * stays: a typo never takes access control down.
 *
 * @example const policy = livePolicy(config.JITGATE_POLICY, log); policy.current().resources.get('grafana');
 */
export function livePolicy(
  path: string,
  log: Logger,
  /** The file as already read at start (else it is read here). */
  loaded?: Policy,
  timings?: FileWatchTimings,
): LivePolicy {
  const initial = readFileSync(path, 'utf8');
  let policy = loaded ?? loadPolicy(initial, path);
  const take = (text: string, trigger: 'file' | 'signal'): boolean => {
    try {
      policy = loadPolicy(text, path);
      log.info({ resources: policy.resources.size, trigger }, 'policy reloaded');
      return true;
    } catch (err) {
      log.error({ err: String(err), trigger }, 'policy not reloaded; keeping the current one');
      return false;
    }
  };
  const watch = watchFileContent(
    path,
    initial,
    (text) => take(text, 'file'),
    (err) =>
      log.error(
        { err: (err as NodeJS.ErrnoException).code ?? String(err), trigger: 'file' },
        `policy file ${path} cannot be read; keeping the current policy`,
      ),
    timings,
  );
  return {
    current: () => policy,
    reload() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        log.error(
          { err: (err as NodeJS.ErrnoException).code ?? String(err), trigger: 'signal' },
          'policy not reloaded; keeping the current one',
        );
        return false;
      }
      watch.settled(text);
      return take(text, 'signal');
    },
    stop: () => watch.stop(),
  };
}

/**
 * Wires the process signals of an entry file: SIGHUP reloads, SIGTERM and SIGINT stop once (the
 * caller's `stop` takes work in hand to its end), with a forced exit if stopping hangs.
 */
export function handleSignals(
  log: Logger,
  handlers: { stop: () => Promise<void>; reload?: () => unknown; forceAfterMs?: number; what?: string },
): void {
  if (handlers.reload) process.on('SIGHUP', () => handlers.reload?.());
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `stopping: ${handlers.what ?? 'no new work; work in hand finishes'}`);
    const force = setTimeout(() => process.exit(1), handlers.forceAfterMs ?? 25_000).unref();
    try {
      await handlers.stop();
      clearTimeout(force);
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'error while stopping');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
