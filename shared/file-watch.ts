import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** How a watched file is followed (tests shorten both). */
export interface FileWatchTimings {
  /** Quiet time after the last change event before the file is read (editors write in steps). */
  debounceMs?: number;
  /** The file is also compared this often, for filesystems whose events do not arrive (NFS, some mounts). */
  pollMs?: number;
}

/** A watch in progress: `stop` ends it. */
export interface FileWatch {
  /** Records the text now in force (after a reload by other means), so that it is not taken again. */
  settled(text: string): void;
  stop(): void;
}

/** The SHA-256 of a file's text: what "changed" means here (a touch alone changes nothing). */
export const digestOf = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Calls `onChange(text)` when the file's content changes, however it was changed: written in place,
 * replaced by a rename (editors, `mv`, atomic deploys), or swapped behind a symlink, as Kubernetes
 * does for a mounted ConfigMap (`policy.yml → ..data/policy.yml`, `..data` re-pointed by a rename).
 * The file's folder is watched, not the file (a watch on a file follows its old inode after a
 * rename), and every event there leads, after `debounceMs` of quiet, to one read and a comparison of
 * the content with the text last settled. A file that cannot be read is reported through `onError`
 * once per distinct problem; the watch goes on, and the next change is taken.
 *
 * @example
 *   const w = watchFileContent('policy.yml', initialText, (text) => reload(text), (err) => log.error({ err }));
 *   // on shutdown: w.stop();
 */
export function watchFileContent(
  path: string,
  initialText: string,
  onChange: (text: string) => void,
  onError: (err: Error) => void,
  timings: FileWatchTimings = {},
): FileWatch {
  const debounceMs = timings.debounceMs ?? 300;
  const pollMs = timings.pollMs ?? 10_000;
  const file = resolve(path);
  let current = digestOf(initialText);
  let lastProblem: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const check = () => {
    timer = undefined;
    if (stopped) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const problem = (err as NodeJS.ErrnoException).code ?? String(err);
      if (problem !== lastProblem) onError(err as Error);
      lastProblem = problem;
      return;
    }
    const digest = digestOf(text);
    if (digest === current) return;
    current = digest;
    lastProblem = undefined;
    onChange(text);
  };
  const soon = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(check, debounceMs);
    timer.unref();
  };

  let watcher: FSWatcher | undefined;
  try {
    // Every event in the folder counts: a ConfigMap swap names `..data`, never the file itself.
    watcher = watch(dirname(file), { persistent: false }, soon);
    watcher.on('error', () => {
      // The folder went away (or the watch broke): polling carries on alone.
      watcher?.close();
      watcher = undefined;
    });
  } catch {
    // No folder watch here (a filesystem without events): polling alone.
  }
  const poll = setInterval(check, pollMs);
  poll.unref();
  return {
    settled(text) {
      current = digestOf(text);
      lastProblem = undefined;
    },
    stop() {
      stopped = true;
      watcher?.close();
      clearInterval(poll);
      if (timer) clearTimeout(timer);
    },
  };
}
