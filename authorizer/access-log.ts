import type { IncomingMessage, ServerResponse } from 'node:http';
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

/**
 * One JSON line per request: method, path without its query (queries may hold codes), status,
 * duration and the access decision. Never a header value, token, cookie or code.
 */
export function accessLog(log: Logger, metrics: Metrics) {
  return function logRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const method = req.method;
    const path = pathOnly(req.url ?? '');
    res.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      const decision = decisions.get(res);
      if (decision?.resource) metrics.requestDuration.observe({ resource: decision.resource }, seconds);
      log.info(
        {
          method,
          path: path.length > 512 ? `${path.slice(0, 512)}…` : path,
          status: res.statusCode,
          ms: Math.round(seconds * 1000),
          ...decision,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });
  };
}
