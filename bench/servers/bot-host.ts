/**
 * The Slack side under test, in a child process: the real bot over HTTP with its BullMQ worker and
 * an authorizer on the same Redis prefix (startSystem, as `npm start` runs them), talking to the stand-in
 * (another process) as to Slack. The orchestrator sends the signed Slack requests from its own
 * process. The server-side time of every /slack/events answer is recorded from Node's HTTP
 * diagnostics channels, so the ack can be told apart from the client's own delays.
 *
 * Environment: BENCH_UPSTREAM, BENCH_APPROVERS (approvers U0APPR0…), BENCH_BOT_TOKEN, SLACK_API_URL,
 * BENCH_PREFIX, REDIS_URL, BENCH_LOG_LEVEL.
 */
import { randomBytes } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { loadConfig } from '../../shared/config.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { generateSigningKeySet, loadSigningKeys } from '../../shared/tokens/index.js';
import { startSystem } from '../../system/start.js';
import { serveRpc } from './rpc.js';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const PUBLIC_URL = 'http://127.0.0.1:8080';
const approvers = Number(process.env.BENCH_APPROVERS ?? 50);
const prefix = env('BENCH_PREFIX');
const botToken = env('BENCH_BOT_TOKEN');
const apiUrl = env('SLACK_API_URL');
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logLevel = process.env.BENCH_LOG_LEVEL ?? 'info';

// Server-side ack times: from the request's arrival to the end of its answer.
const started = new WeakMap<IncomingMessage, number>();
let acks: number[] = [];
let arrivals: number[] = [];
// The first request of a burst on the monotonic clock V8's CPU profiles use (µs), to find the burst in a profile.
let burstStartUs: number | undefined;
// The bot's CPU time from a burst's first request to its last ack: what the ack p99 would be on an
// idle machine, less the client's share (other processes on the host do not inflate it).
let burstCpu: NodeJS.CpuUsage | undefined;
let cpuToLastAckMs = 0;
diagnostics.subscribe('http.server.request.start', (m) => {
  const { request } = m as { request: IncomingMessage };
  if (!request.url?.startsWith('/slack/events')) return;
  started.set(request, performance.now());
  arrivals.push(performance.now());
  burstStartUs ??= Number(process.hrtime.bigint() / 1000n);
  burstCpu ??= process.cpuUsage();
});
diagnostics.subscribe('http.server.response.finish', (m) => {
  const { request } = m as { request: IncomingMessage; response: ServerResponse };
  const t0 = started.get(request);
  if (t0 !== undefined) acks.push(performance.now() - t0);
  if (t0 !== undefined && burstCpu) {
    const used = process.cpuUsage(burstCpu);
    cpuToLastAckMs = (used.user + used.system) / 1000;
  }
});

// How long the bot's event loop was held up: a request waits that long before the bot even reads it.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

const policy = loadPolicy(
  `
defaults:
  approvalChannel: C0APPROVALS
  defaultDuration: 1h
  maxDuration: 8h
  pendingTimeout: 30m
  nudgeAfter: 10m
  reminderBefore: 5m
resources:
  app:
    description: The bench upstream
    upstream: ${env('BENCH_UPSTREAM')}
    match: { pathPrefix: /app }
    approvers: { users: [${Array.from({ length: approvers }, (_, i) => `U0APPR${i}`).join(', ')}] }
    roles:
      viewer: { methods: [GET, HEAD] }
`,
  'the bench policy',
);

const secret = randomBytes(16).toString('hex');
const system = await startSystem({
  roles: ['bot', 'worker', 'authorizer'],
  config: loadConfig({ LOG_LEVEL: logLevel }),
  overrides: {
    redisUrl,
    prefix,
    policy,
    signingKeys: await loadSigningKeys(JSON.stringify(await generateSigningKeySet())),
    slack: { botToken, signingSecret: secret },
    slackApiUrl: apiUrl,
    publicUrl: PUBLIC_URL,
    botPort: 0,
    authorizerPort: 0,
    authorizerHost: '127.0.0.1',
  },
});
const deps = system.deps!;
const port = system.bot!.port;
const authorizerUrl = system.authorizer!.url;

serveRpc(
  { botUrl: `http://127.0.0.1:${port}`, secret, authorizerUrl },
  {
    /** The grant's story as the store has it (endedAt: when a revoke or expiry was committed). */
    request: async (a) => {
      const r = await deps.store.queries.getRequest(String(a.requestId));
      return r
        ? {
            grantId: r.grantId,
            grantStatus: r.grantStatus,
            expiresAt: r.expiresAt,
            endedAt: r.endedAt,
            message: r.message,
          }
        : undefined;
    },
    /** Server-side ack times (ms) since the last call. */
    takeAcks: () => {
      // When each request was read, from the first one: a late read means a busy event loop.
      const readAfterMs = arrivals.map((t) => t - (arrivals[0] ?? t));
      const out = { acks, burstStartUs, readAfterMs, cpuToLastAckMs };
      acks = [];
      arrivals = [];
      burstStartUs = undefined;
      burstCpu = undefined;
      cpuToLastAckMs = 0;
      return out;
    },
    /** Event-loop delay (ms) since the last call. */
    takeLoopDelay: () => {
      const out = { p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 };
      loopDelay.reset();
      return out;
    },
    stop: async () => {
      await system.stop();
      process.exit(0);
    },
  },
);
