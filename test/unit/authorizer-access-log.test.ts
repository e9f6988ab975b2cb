import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { accessLog, noteDecision } from '../../authorizer/access-log.js';
import type { Decision } from '../../authorizer/gate.js';
import { createMetrics } from '../../authorizer/metrics.js';
import { createLogger } from '../../shared/log.js';

/** A logger whose lines are kept, and the access log over it. */
function logged(level = 'info') {
  const lines: string[] = [];
  const log = createLogger('authorizer', level, { write: (l: string) => void lines.push(l) });
  const metrics = createMetrics({ countActiveGrants: async () => 0, log });
  return { lines, log, logRequest: accessLog(log, metrics) };
}

/** A request and its response, closed with `status` (finished, or cut short). */
function exchange(
  logRequest: ReturnType<typeof accessLog>,
  method: string,
  url: string,
  decision?: Decision,
) {
  const req = { method, url } as IncomingMessage;
  const res = Object.assign(new EventEmitter(), { statusCode: 0, writableFinished: false });
  logRequest(req, res as unknown as ServerResponse);
  if (decision) noteDecision(res as unknown as ServerResponse, decision);
  return (status: number, finished = true) => {
    res.statusCode = status;
    res.writableFinished = finished;
    res.emit('close');
  };
}

/** The line without its time, parsed (keys in their order). */
const fields = (line: string) => {
  expect(line.endsWith('}\n')).toBe(true);
  const { time, ...rest } = JSON.parse(line) as Record<string, unknown>;
  expect(typeof time).toBe('string');
  return rest;
};

const allowed: Decision = {
  resource: 'grafana',
  decision: 'allow',
  reason: 'ok',
  user: 'U0ALICE',
  grantId: 'g_01HZZZZZZZZZZZZZZZZZZZZZZZ',
  client: '203.0.113.9',
};

describe('the access log line, put together by hand', () => {
  it.each([
    ['an allowed request', 'GET', '/grafana/api?token=secret', allowed, 200, true],
    [
      'a refusal naming no grant',
      'POST',
      '/x',
      { decision: 'deny', reason: 'no_such_resource' } as Decision,
      404,
      true,
    ],
    ['a request with no decision (a bad path)', 'GET', '/a/../b', undefined, 400, true],
    ['an answer cut short', 'GET', '/grafana/stream', allowed, 200, false],
    [
      'a path with quotes, backslashes, controls and non-ASCII',
      'GET',
      '/a"b\\c\u0001d\u2028é😀',
      allowed,
      200,
      true,
    ],
    ['a path over 512 characters', 'GET', `/${'p'.repeat(600)}?q=1`, undefined, 404, true],
  ] as const)(
    'when %s is logged, then the line is exactly the one pino would write for the same fields',
    (_, method, url, decision, status, finished) => {
      const { lines, log, logRequest } = logged();
      exchange(logRequest, method, url, decision)(status, finished);
      const path = url.split('?')[0]!;
      // The duration is whatever the clock said: pino is given the same one.
      const { ms } = JSON.parse(lines[0]!) as { ms: number };
      expect(Number.isInteger(ms) && ms >= 0).toBe(true);
      log.info(
        {
          method,
          path: path.length > 512 ? `${path.slice(0, 512)}…` : path,
          status,
          ms,
          ...decision,
          ...(finished ? {} : { aborted: true }),
        },
        'request',
      );
      expect(lines).toHaveLength(2);
      const [ours, pinos] = lines.map(fields);
      expect(Object.keys(ours!)).toEqual(Object.keys(pinos!));
      expect(ours).toEqual(pinos);
      expect(lines[0]).not.toContain('secret');
    },
  );

  it('when the level is above info, then no access line is written', () => {
    const { lines, logRequest } = logged('warn');
    exchange(logRequest, 'GET', '/grafana/', allowed)(200);
    expect(lines).toEqual([]);
  });
});
