import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../../shared/config.js';
import { type System, startSystem } from '../../system/start.js';
import { BENCH_ISSUER, benchPolicyYaml } from '../policy.js';

/**
 * Commands sent by every Redis connection of this process, by name. The authorizers are the only
 * Redis users in the process under test, so this is their client-side count (Redis's own count,
 * INFO commandstats, also sees everyone else's).
 */
const sent: Record<string, number> = {};
const send = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (this: Redis, command, stream) {
  sent[command.name] = (sent[command.name] ?? 0) + 1;
  return send.call(this, command, stream);
};
export const commandsSent = () => ({ ...sent });

/**
 * The authorizer exactly as `npm run start:authorizer` builds it (startSystem with the authorizer
 * role: policy file, signing keys, Redis connection, store, logger at LOG_LEVEL writing to stdout),
 * on a free port.
 */
export async function startJitgate(options: {
  upstreamUrl: string;
  redisUrl: string;
  prefix: string;
  keysJson: string;
  logLevel: string;
  /** Sign-in on (at an issuer that need not answer: sessions are opened without it). */
  signIn?: boolean;
  /** JITGATE_TRUSTED_PROXIES (forward-auth: the nginx in front asks /_jitgate/auth). */
  trustedProxies?: string;
}): Promise<{ url: string; proc: System }> {
  const policyFile = join(tmpdir(), `${options.prefix}-policy.yml`);
  writeFileSync(policyFile, benchPolicyYaml(options.upstreamUrl));
  const config = loadConfig({
    REDIS_URL: options.redisUrl,
    JITGATE_POLICY: policyFile,
    JITGATE_PUBLIC_URL: BENCH_ISSUER,
    JITGATE_SIGNING_KEYS: options.keysJson,
    JITGATE_REDIS_PREFIX: options.prefix,
    AUTHORIZER_PORT: '0',
    LOG_LEVEL: options.logLevel,
    ...(options.trustedProxies ? { JITGATE_TRUSTED_PROXIES: options.trustedProxies } : {}),
    ...(options.signIn
      ? {
          JITGATE_OIDC_ISSUER: 'http://127.0.0.1:9',
          JITGATE_OIDC_CLIENT_ID: 'bench',
          JITGATE_OIDC_CLIENT_SECRET: 'bench-secret',
        }
      : {}),
  });
  const proc = await startSystem({ roles: ['authorizer'], config });
  return { url: `http://127.0.0.1:${proc.authorizer!.port}`, proc };
}
