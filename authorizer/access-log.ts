import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import type { Logger } from '../shared/log.js';
import { pathOnly } from './checks/path.js';
import type { Decision } from './gate.js';
import type { Metrics } from './metrics.js';

/** The access decision of each request that had one, for its log line. */
const decisions = new WeakMap<ServerResponse, Decision>();

/** Notes the gate's decision about the request this response answers (its access log line says it). */
export function noteDecision(res: ServerResponse, decision: Decision): void {
  decisions.set(res, decision);
}

/** What pino keeps of a logger that the line below needs: its bindings, its clock and its output. */
interface PinoParts {
  [pino.symbols.chindingsSym]: string;
  [pino.symbols.timeSym]: () => string;
  [pino.symbols.streamSym]: pino.DestinationStream;
}

/**
 * One JSON line per request: method, path without its query (queries may hold codes), status,
 * duration and the access decision. Never a header value, token, cookie or code.
 *
 * The line is pino's own line at `info` (the logger's level, bindings, time format and output), but
 * put together here from its few known fields instead of by pino's generic serializer and its
 * redaction pass, which cost more than the rest of the line: none of these fields is one redaction
 * guards (a header, a token, a code), and the strings are escaped by JSON.stringify.
 */
export function accessLog(log: Logger, metrics: Metrics) {
  const parts = log as unknown as PinoParts;
  return function logRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const method = req.method ?? '';
    const path = pathOnly(req.url ?? '');
    res.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      const decision = decisions.get(res);
      if (decision?.resource) metrics.requestDuration.observe({ resource: decision.resource }, seconds);
      if (!log.isLevelEnabled('info')) return;
      const shown = path.length > 512 ? `${path.slice(0, 512)}…` : path;
      let line = `{"level":30${parts[pino.symbols.timeSym]()}${parts[pino.symbols.chindingsSym]},"method":${JSON.stringify(method)},"path":${JSON.stringify(shown)},"status":${res.statusCode},"ms":${Math.round(seconds * 1000)}`;
      if (decision) line += decisionFields(decision);
      if (!res.writableFinished) line += ',"aborted":true';
      parts[pino.symbols.streamSym].write(`${line},"msg":"request"}\n`);
    });
  };
}

function decisionFields(d: Decision): string {
  let out = '';
  if (d.resource !== undefined) out += `,"resource":${JSON.stringify(d.resource)}`;
  out += `,"decision":"${d.decision}","reason":${JSON.stringify(d.reason)}`;
  if (d.user !== undefined) out += `,"user":${JSON.stringify(d.user)}`;
  if (d.grantId !== undefined) out += `,"grantId":${JSON.stringify(d.grantId)}`;
  if (d.client !== undefined) out += `,"client":${JSON.stringify(d.client)}`;
  return out;
}
