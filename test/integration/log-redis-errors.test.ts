import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.js';
import { type TestRedis, testRedis } from '../support/redis.js';

let t: TestRedis;
beforeEach(async () => {
  t = await testRedis();
});
afterEach(() => t.cleanup());

/** A logger whose lines are collected, as the authorizer's are written. */
function collectingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger('test', 'info', sink), lines };
}

describe('the log and Redis errors', () => {
  it("when a Redis command fails, then the error is logged without the command's arguments (a value written can be a session)", async () => {
    const { log, lines } = collectingLogger();
    const secret = JSON.stringify({
      session: { sid: 'sid-SECRET-0123456789abcdef', email: 'alice@example.com' },
    });
    // A real reply error from Redis: ioredis attaches the command, arguments included, to the error.
    const err = await t.redis.set(`${t.prefix}:handoff`, secret, 'PX', -5).catch((e: unknown) => e);
    expect((err as { command?: { args?: unknown[] } }).command?.args).toContain(secret);
    log.warn({ err }, 'sign-in: could not store the handoff');
    const line = lines.join('');
    expect(line).toContain('could not store the handoff');
    expect(line).toContain('"name":"set"');
    expect(line).not.toContain('sid-SECRET');
    expect(line).not.toContain('alice@example.com');
  });
});
