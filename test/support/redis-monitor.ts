import { connect } from 'node:net';

/** One command as Redis's MONITOR reported it: who ran it (`lua` inside a script) and its arguments. */
export interface Monitored {
  source: string;
  /** As MONITOR quotes them, escapes kept (keys, ids and numbers have none). */
  args: string[];
}

/**
 * Watches every command Redis runs, through MONITOR on a socket of its own. (ioredis's monitor()
 * can mistake a MONITOR line that arrives with its +OK for a reply when Redis is busy, so the
 * protocol is read here directly: after +OK, one `+<time> [<db> <source>] "arg" …` line a command.)
 */
export async function monitorRedis(url: string, onCommand: (command: Monitored) => void) {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buffered = '';
  let started: () => void;
  const ready = new Promise<void>((resolve) => {
    started = resolve;
  });
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let end = buffered.indexOf('\r\n');
    while (end >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      end = buffered.indexOf('\r\n');
      if (line === '+OK') started();
      const m = /^\+\S+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
      if (m)
        onCommand({ source: m[1]!, args: [...m[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((a) => a[1]!) });
    }
  });
  socket.write('MONITOR\r\n');
  await ready;
  return { close: () => socket.destroy() };
}
