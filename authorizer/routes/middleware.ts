import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../../shared/log.js';
import { messageOf } from '../../shared/messages.js';
import { pathOnly, requestTargetProblem } from '../checks/path.js';
import type { Decision } from '../gate.js';
import type { Metrics } from '../metrics.js';
import type { RefusalRecorder } from '../refusal-records.js';
import { sendRefusal } from '../refusal-response.js';
import { refusal } from '../refusals.js';

/**
 * One JSON line per request: method, path without its query (queries may hold codes), status,
 * duration and the access decision. Never a header value, token, cookie or code.
 */
export function accessLog(log: Logger, metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    const method = req.method;
    const path = pathOnly(req.url);
    res.once('close', () => {
      const seconds = (performance.now() - started) / 1000;
      const decision = res.locals.decision as Decision | undefined;
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
    next();
  };
}

/**
 * Refuses ambiguous request targets with 400 before anything routes on them. The refusal names no
 * resource and no grant: it is counted (`|bad_path` in the minute's counts), nothing of the target stored.
 */
export function pathGuard(refusals: Pick<RefusalRecorder, 'refused'>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const problem = requestTargetProblem(req.url);
    if (problem) {
      refusals.refused({ resource: undefined, reason: 'bad_path', grantId: undefined });
      sendRefusal(res, refusal('bad_path', {}, messageOf('bad_path', { problem })), req.headers.accept);
      return;
    }
    next();
  };
}
