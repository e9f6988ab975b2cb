import type { Logger } from './log.js';
import { loadPolicyFile } from './policy/load.js';
import type { Policy } from './policy/types.js';

/**
 * The policy a process runs with, re-read on demand (`startSystem` hands `reload` to the entry files,
 * which call it on SIGHUP). A bad file is reported and the current policy stays: a typo never takes
 * access control down.
 *
 * @example const policy = livePolicy(config.JITGATE_POLICY, log); policy.current().resources.get('grafana');
 */
export function livePolicy(
  path: string,
  log: Logger,
  /** The file as already read at start (else it is read here). */
  loaded?: Policy,
): { current: () => Policy; reload(): boolean } {
  let policy = loaded ?? loadPolicyFile(path);
  return {
    current: () => policy,
    reload() {
      try {
        policy = loadPolicyFile(path);
        log.info({ resources: policy.resources.size }, 'policy reloaded');
        return true;
      } catch (err) {
        log.error({ err: String(err) }, 'policy not reloaded; keeping the current one');
        return false;
      }
    },
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
