/**
 * The proxies under test, in one child process: the bare http-proxy-middleware proxy, the minimal
 * node:http proxy (minimal-proxy.ts) and the jitgate
 * authorizer (twice: with its access log at LOG_LEVEL, and at `warn`, to show what the log line per
 * request costs), side by side on their own ports; only one is loaded at a time. One process keeps
 * the comparison fair (same Node, same flags, same heap); `--cpu-prof` on it profiles them.
 *
 * Configuration comes in the environment: BENCH_UPSTREAM, BENCH_PREFIX, BENCH_KEYS, REDIS_URL,
 * BENCH_LOG_LEVEL.
 */
import { startBareProxy } from './bare-proxy.js';
import { commandsSent, startJitgate } from './jitgate.js';
import { startMinimalProxy } from './minimal-proxy.js';
import { serveRpc } from './rpc.js';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const upstreamUrl = env('BENCH_UPSTREAM');
const common = {
  upstreamUrl,
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: env('BENCH_PREFIX'),
  keysJson: env('BENCH_KEYS'),
};
const bare = await startBareProxy(upstreamUrl);
const minimal = await startMinimalProxy(upstreamUrl);
const jitgate = await startJitgate({ ...common, logLevel: process.env.BENCH_LOG_LEVEL ?? 'info' });
const quiet = await startJitgate({ ...common, logLevel: 'warn' });
/** With sign-in on, started when the signin scenario asks (the others never load it). */
let signedIn: Awaited<ReturnType<typeof startJitgate>> | undefined;
/** Forward-auth's authorizer (trusts 127.0.0.1: the nginx that asks it), started when the proxy scenario asks. */
let forwardAuth: Awaited<ReturnType<typeof startJitgate>> | undefined;

serveRpc(
  {
    bareUrl: bare.url,
    minimalUrl: minimal.url,
    jitgateUrl: jitgate.url,
    quietUrl: quiet.url,
    pid: process.pid,
  },
  {
    commandsSent: () => commandsSent(),
    /** Starts the authorizer with sign-in on (its access log as the first one's); answers its URL. */
    startSignedIn: async () => {
      signedIn ??= await startJitgate({
        ...common,
        logLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
        signIn: true,
      });
      return signedIn.url;
    },
    /** Starts the authorizer that nginx's auth_request asks (its access log as the first one's); answers its URL. */
    startForwardAuth: async () => {
      forwardAuth ??= await startJitgate({
        ...common,
        logLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
        trustedProxies: '127.0.0.1/32',
      });
      return forwardAuth.url;
    },
    /** CPU time this process used (µs): divided by requests, the proxy's cost independent of wall clock. */
    cpu: () => process.cpuUsage(),
    memory: () => process.memoryUsage(),
    /** The monotonic clock of V8's CPU profiles (µs), to cut a profile into runs. */
    profileClock: () => Number(process.hrtime.bigint() / 1000n),
    stop: async () => {
      for (const s of [bare.server, minimal.server]) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
      await Promise.all([
        jitgate.proc.stop(),
        quiet.proc.stop(),
        signedIn?.proc.stop(),
        forwardAuth?.proc.stop(),
      ]);
      // Let --cpu-prof write its profile on a normal exit.
      process.exit(0);
    },
  },
);
