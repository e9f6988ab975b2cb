import type { Redis } from 'ioredis';
import { type Authorizer, createAuthorizer } from '../../authorizer/server.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import { auditToLog, createLogger } from '../../shared/log.js';
import { loadPolicy, type Policy } from '../../shared/policy/index.js';
import { connectRedis } from '../../shared/redis/connect.js';
import { loadSigningKeys } from '../../shared/tokens/index.js';

/** The one protected resource of the bench: `/app/*` → the upstream, GET for viewers. */
export const BENCH_RESOURCE = 'app';
export const BENCH_ROLE = 'viewer';
export const BENCH_ISSUER = 'http://127.0.0.1:8080';

export function benchPolicy(upstreamUrl: string): Policy {
  return loadPolicy(
    `
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 1h, maxDuration: 8h }
resources:
  ${BENCH_RESOURCE}:
    description: The bench upstream
    upstream: ${upstreamUrl}
    match: { pathPrefix: /app }
    approvers: { users: [U0BOSS] }
    roles:
      ${BENCH_ROLE}: { methods: [GET, HEAD] }
`,
    'the bench policy',
  );
}

export interface JitgateUnderTest {
  url: string;
  authorizer: Authorizer;
  redis: Redis;
  /** Commands this authorizer's connection sent, by name (client side; Redis's own view is INFO commandstats). */
  commandsSent(): Record<string, number>;
  stop(): Promise<void>;
}

/**
 * The authorizer as `npm run start:authorizer` builds it (production logger at `logLevel`, the
 * store's fail-fast connection), with a counter on the connection's commands.
 */
export async function startJitgate(options: {
  upstreamUrl: string;
  redisUrl: string;
  prefix: string;
  keysJson: string;
  logLevel: string;
}): Promise<JitgateUnderTest> {
  const log = createLogger('authorizer', options.logLevel);
  const redis = connectRedis(options.redisUrl, { connectionName: `jitgate-bench-${options.prefix}` });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis: connection error'));
  const sent: Record<string, number> = {};
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: { name: string }, stream?: unknown) => {
    sent[command.name] = (sent[command.name] ?? 0) + 1;
    return send(command as never, stream as never);
  }) as typeof redis.sendCommand;

  const policy = benchPolicy(options.upstreamUrl);
  const keys = await loadSigningKeys(options.keysJson);
  const store = new AccessStore(redis, {
    prefix: options.prefix,
    clock: systemClock,
    auditSink: auditToLog(log),
  });
  const authorizer = createAuthorizer({
    publicUrl: BENCH_ISSUER,
    trustedProxies: [],
    policy: () => policy,
    store,
    redis,
    keys,
    clock: systemClock,
    log,
  });
  const { url } = await authorizer.start(0, '127.0.0.1');
  authorizer.server.keepAliveTimeout = 120_000;
  return {
    url,
    authorizer,
    redis,
    commandsSent: () => ({ ...sent }),
    async stop() {
      await authorizer.stop();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
