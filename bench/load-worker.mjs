// The load generator, run in a worker thread (see load.ts) so that it has an event loop, and a core,
// of its own. Plain JavaScript: a worker thread does not inherit tsx's loader reliably.
//
// autocannon's own latency histogram has a resolution of 1 ms, too coarse for loopback requests that
// take about a millisecond; every response time is recorded here instead (microseconds) and the
// percentiles are computed from all of them.
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';

/** @type {import('./load.js').LoadSpec} */
const spec = workerData;

let next = spec.tokenOffset ?? 0;
const rotate = (request) => {
  const token = spec.tokens[next % spec.tokens.length];
  next += 1;
  const headers = { ...request.headers };
  if (spec.tokenIn === 'cookie') headers.cookie = `${spec.cookieName}=${token}`;
  else headers.authorization = `Bearer ${token}`;
  request.headers = headers;
  return request;
};

function options(durationSec) {
  const base = {
    url: spec.url,
    connections: spec.connections,
    duration: durationSec,
    method: 'GET',
    headers: spec.headers ?? {},
    timeout: 10,
  };
  if (spec.tokens && spec.tokens.length > 0) {
    base.requests = [{ path: new URL(spec.url).pathname, setupRequest: rotate }];
  }
  return base;
}

async function run() {
  let warmupRequests = 0;
  if (spec.warmupSec > 0) {
    const warmup = autocannon(options(spec.warmupSec));
    warmup.on('response', () => {
      warmupRequests += 1;
    });
    await warmup;
  }
  const micros = [];
  const statuses = {};
  const instance = autocannon(options(spec.durationSec));
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    micros.push(Math.round(responseTimeMs * 1000));
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  });
  const result = await instance;
  const sorted = Float64Array.from(micros).sort();
  const at = (q) =>
    sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const sum = sorted.reduce((a, b) => a + b, 0);
  parentPort.postMessage({
    requests: sorted.length,
    warmupRequests,
    tokensUsed: next - (spec.tokenOffset ?? 0),
    durationSec: result.duration,
    rps: sorted.length / result.duration,
    latencyUs: {
      mean: sorted.length === 0 ? 0 : sum / sorted.length,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      p999: at(0.999),
      max: sorted.length === 0 ? 0 : sorted[sorted.length - 1],
    },
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  });
}

run().catch((err) => {
  parentPort.postMessage({ error: String(err?.stack ?? err) });
});
