/**
 * The proxies under test, in one child process: the bare http-proxy-middleware proxy and the jitgate
 * authorizer, side by side on their own ports (only one is loaded at a time). One process for both
 * keeps the comparison fair (same Node, same flags, same heap); `--cpu-prof` on it profiles them.
 *
 * Configuration comes in the environment: BENCH_UPSTREAM, BENCH_PREFIX, BENCH_KEYS, REDIS_URL,
 * BENCH_LOG_LEVEL.
 */
import { startBareProxy } from './bare-proxy.js';
import { startJitgate } from './jitgate.js';
import { serveRpc } from './rpc.js';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const upstreamUrl = env('BENCH_UPSTREAM');
const bare = await startBareProxy(upstreamUrl);
const jitgate = await startJitgate({
  upstreamUrl,
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: env('BENCH_PREFIX'),
  keysJson: env('BENCH_KEYS'),
  logLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
});

serveRpc(
  { bareUrl: bare.url, jitgateUrl: jitgate.url, pid: process.pid },
  {
    commandsSent: () => jitgate.commandsSent(),
    /** CPU time this process used (µs): divided by requests, the proxy's cost independent of wall clock. */
    cpu: () => process.cpuUsage(),
    memory: () => process.memoryUsage(),
    gc: () => {
      (globalThis as { gc?: () => void }).gc?.();
      return true;
    },
    stop: async () => {
      bare.server.closeAllConnections();
      await new Promise<void>((r) => bare.server.close(() => r()));
      await jitgate.stop();
      // Let --cpu-prof write its profile on a normal exit.
      process.exit(0);
    },
  },
);
