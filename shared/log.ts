import { type Logger, pino } from 'pino';
import { type AuditLink, auditLine } from './audit/chain.js';

export type { Logger };

/**
 * The JSON logger. Anything that could carry a credential is redacted by path, as a second line of
 * defence: code never passes tokens or redeem codes to the logger in the first place.
 *
 * @example const log = createLogger('authorizer', config.LOG_LEVEL);
 */
export function createLogger(
  name: string,
  level = 'info',
  destination: pino.DestinationStream = stdoutByTurn(),
): Logger {
  return pino(
    {
      name,
      level,
      base: { service: `jitgate-${name}` },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'token',
          '*.token',
          'code',
          '*.code',
          'authorization',
          '*.authorization',
          'headers.authorization',
          'headers.cookie',
          'req.headers.authorization',
          'req.headers.cookie',
          'cookie',
          '*.cookie',
          // ioredis puts the failed command on its errors, arguments included: a value being
          // written (a session handed off, a request) would reach the log with the error.
          'err.command.args',
          '*.err.command.args',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** The lines not yet written of each standard output logger, written at exit (one listener for all). */
const unwritten = new Set<() => void>();
let exitHook = false;

/** A turn's lines are written once they reach this size, without waiting for the turn's end. */
const MAX_HELD = 16 * 1024;

/**
 * Standard output, written once per turn of the event loop: the lines logged during one turn
 * (the access log lines of every request that ended in it, say) go out in one write at its end
 * (setImmediate), instead of one write system call each, which was the access log's main cost. The
 * writes stay synchronous (pino's own sonic-boom, in sync mode: never interleaved, a full pipe
 * waited for), a turn never holds more than 16 KiB before writing, and what is left is written
 * when the process exits.
 *
 * @example const log = pino({}, stdoutByTurn());
 */
export function stdoutByTurn(): pino.DestinationStream {
  const out = pino.destination({ dest: 1, sync: true });
  let held = '';
  let due = false;
  const write = () => {
    due = false;
    if (held === '') return;
    const text = held;
    held = '';
    out.write(text);
  };
  unwritten.add(write);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const w of unwritten) w();
    });
  }
  return {
    write(line: string) {
      held += line;
      if (held.length >= MAX_HELD) write();
      else if (!due) {
        due = true;
        setImmediate(write);
      }
    },
  };
}

/**
 * An audit sink that writes every event to the log, for a SIEM to collect: the same line as
 * `npm run audit -- export` writes, with the entry's stream id and chain hashes.
 */
export function auditToLog(log: Logger) {
  return (event: Record<string, unknown>, link: AuditLink) =>
    log.info({ audit: auditLine(event, link) }, `audit ${String(event.type)}`);
}
