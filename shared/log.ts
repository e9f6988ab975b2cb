import { type Logger, pino } from 'pino';
import { type AuditLink, auditLine } from './audit/chain.js';

export type { Logger };

/**
 * The JSON logger. Anything that could carry a credential is redacted by path, as a second line of
 * defence: code never passes tokens or redeem codes to the logger in the first place.
 *
 * @example const log = createLogger('authorizer', config.LOG_LEVEL);
 */
export function createLogger(name: string, level = 'info', destination?: pino.DestinationStream): Logger {
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

/**
 * An audit sink that writes every event to the log, for a SIEM to collect: the same line as
 * `npm run audit -- export` writes, with the entry's stream id and chain hashes.
 */
export function auditToLog(log: Logger) {
  return (event: Record<string, unknown>, link: AuditLink) =>
    log.info({ audit: auditLine(event, link) }, `audit ${String(event.type)}`);
}
