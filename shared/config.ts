import { z } from 'zod';
import { isDuration, parseDuration } from './duration.js';
import { JitgateError } from './errors.js';
import { parseHostPorts, redisSettingsProblems } from './redis/target.js';

/** The environment of DESIGN.md, parsed once at start. The only place in shared/ that sees env. */
const Port = z.coerce
  .number({ error: 'must be a port number' })
  .int('must be a whole number')
  .min(0, 'must be 0 to 65535')
  .max(65535, 'must be 0 to 65535');

/** `host:port,host:port,…`, read into a list (REDIS_CLUSTER_NODES, REDIS_SENTINELS). */
const HostPorts = z.string().transform((s, ctx) => {
  const read = parseHostPorts(s);
  if ('nodes' in read) return read.nodes;
  ctx.addIssue({ code: 'custom', message: read.problem });
  return z.NEVER;
});

const EnvSchema = z.object({
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((s) => /^rediss?:\/\//.test(s) && URL.canParse(s), 'must start with redis:// or rediss://'),
  REDIS_CLUSTER_NODES: HostPorts.optional(),
  REDIS_SENTINELS: HostPorts.optional(),
  REDIS_SENTINEL_MASTER: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'may hold letters, digits and _ . - only')
    .optional(),
  JITGATE_POLICY: z.string().min(1).default('./policy.yml'),
  JITGATE_PUBLIC_URL: z
    .string()
    .default('http://127.0.0.1:8080')
    .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), 'must be an http(s) URL')
    .transform((s) => s.replace(/\/+$/, '')),
  JITGATE_SIGNING_KEYS: z.string().min(1).optional(),
  SLACK_BOT_TOKEN: z.string().min(1).optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  // A bot token here would make Socket Mode retry apps.connections.open forever (not_allowed_token_type).
  SLACK_APP_TOKEN: z
    .string()
    .refine(
      (s) => s.startsWith('xapp-'),
      'must be the app-level token (xapp-…): Basic Information → App-Level Tokens, scope connections:write',
    )
    .optional(),
  SLACK_API_URL: z
    .string()
    .refine((s) => URL.canParse(s), 'must be a URL such as http://127.0.0.1:4000/api/')
    .optional(),
  BOT_PORT: Port.default(3000),
  AUTHORIZER_PORT: Port.default(8080),
  JITGATE_WORKER: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
  JITGATE_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]+$/, 'may hold letters, digits and _ . : - only (no braces)')
    .default('jitgate'),
  JITGATE_TRUSTED_PROXIES: z
    .string()
    .optional()
    .transform((s) =>
      (s ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  JITGATE_OIDC_ISSUER: z
    .string()
    .superRefine((s, ctx) => {
      const problem = issuerProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  JITGATE_OIDC_CLIENT_ID: z.string().min(1).optional(),
  /** The client secret itself, or the path of a file holding it (resolved when the authorizer starts). */
  JITGATE_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  JITGATE_OIDC_SCOPES: z
    .string()
    .default('openid email profile')
    .transform((s) => s.split(/[\s,]+/).filter(Boolean))
    .refine((scopes) => scopes.includes('openid'), 'must include openid'),
  JITGATE_SESSION_TTL: z
    .string()
    .default('12h')
    .refine(isDuration, 'must be a duration such as 30m, 8h or 1d')
    .transform((s) => parseDuration(s))
    .refine((ms) => ms >= 60_000, 'must be at least 1m'),
  JITGATE_POSTGRES_PORT: Port.optional(),
  /** A PEM certificate (chain) and its key, or the paths of files holding them. */
  JITGATE_POSTGRES_TLS_CERT: z.string().min(1).optional(),
  JITGATE_POSTGRES_TLS_KEY: z.string().min(1).optional(),
  JITGATE_POSTGRES_PLAINTEXT: z.enum(['on', 'off'], { error: 'must be on or off' }).default('off'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
});

export type Config = z.infer<typeof EnvSchema>;

const HOW_TO_FIX: Record<string, string> = {
  REDIS_URL: 'e.g. REDIS_URL=redis://127.0.0.1:6379, or rediss://:password@host:6380 for TLS',
  REDIS_CLUSTER_NODES: 'e.g. REDIS_CLUSTER_NODES=10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379',
  REDIS_SENTINELS: 'e.g. REDIS_SENTINELS=10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379',
  REDIS_SENTINEL_MASTER: 'e.g. REDIS_SENTINEL_MASTER=mymaster',
  JITGATE_PUBLIC_URL: 'e.g. JITGATE_PUBLIC_URL=https://access.example.com',
  JITGATE_REDIS_PREFIX: 'e.g. JITGATE_REDIS_PREFIX=jitgate',
  JITGATE_WORKER: 'JITGATE_WORKER=on or JITGATE_WORKER=off',
  BOT_PORT: 'e.g. BOT_PORT=3000',
  AUTHORIZER_PORT: 'e.g. AUTHORIZER_PORT=8080',
  SLACK_API_URL: 'leave it unset for Slack itself',
  LOG_LEVEL: 'e.g. LOG_LEVEL=info',
  JITGATE_OIDC_ISSUER:
    'e.g. JITGATE_OIDC_ISSUER=https://slack.com for Sign in with Slack; unset turns sign-in off',
  JITGATE_OIDC_CLIENT_ID: "the IdP's client id for jitgate (Slack: Basic Information → Client ID)",
  JITGATE_OIDC_CLIENT_SECRET: 'the client secret, or the path of a file holding it',
  JITGATE_OIDC_SCOPES: 'e.g. JITGATE_OIDC_SCOPES="openid email profile"',
  JITGATE_SESSION_TTL: 'e.g. JITGATE_SESSION_TTL=12h',
  JITGATE_POSTGRES_PORT: 'e.g. JITGATE_POSTGRES_PORT=6432; unset turns the PostgreSQL gateway off',
  JITGATE_POSTGRES_TLS_CERT: 'the path of a PEM certificate file (or the PEM itself)',
  JITGATE_POSTGRES_TLS_KEY: 'the path of the PEM key file of JITGATE_POSTGRES_TLS_CERT (or the PEM itself)',
  JITGATE_POSTGRES_PLAINTEXT: 'JITGATE_POSTGRES_PLAINTEXT=on only behind a proxy that terminates TLS',
};

/** Why an issuer URL is refused, or undefined. `http://` only on loopback: tests and the demo. */
function issuerProblem(s: string): string | undefined {
  if (!URL.canParse(s)) return 'must be a URL such as https://slack.com';
  const url = new URL(s);
  if (url.search || url.hash) return 'must not carry a query or fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return 'must be an https:// URL';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
  return loopback
    ? undefined
    : `must be https:// (http:// is accepted only for a loopback issuer such as http://127.0.0.1:4010, for tests); ${url.host} is not loopback`;
}

/** Problems between variables: the Redis ones (shared/redis/target.ts); sign-in needs its client credentials. */
function crossProblems(env: Record<string, string>): { name: string; message: string }[] {
  const problems: { name: string; message: string }[] = [...redisSettingsProblems(env)];
  if (env.JITGATE_OIDC_ISSUER) {
    const missing = ['JITGATE_OIDC_CLIENT_ID', 'JITGATE_OIDC_CLIENT_SECRET'].filter((name) => !env[name]);
    problems.push(
      ...missing.map((name) => ({
        name,
        message: 'not set, but JITGATE_OIDC_ISSUER is (sign-in needs the client registered at the IdP)',
      })),
    );
  }
  const [cert, key] = ['JITGATE_POSTGRES_TLS_CERT', 'JITGATE_POSTGRES_TLS_KEY'];
  if (env[cert] && !env[key!])
    problems.push({ name: key!, message: `not set, but ${cert} is (TLS needs both)` });
  if (env[key!] && !env[cert!])
    problems.push({ name: cert!, message: `not set, but ${key} is (TLS needs both)` });
  return problems;
}

/**
 * Parses the environment. Throws one `config_invalid` error that lists every problem and its fix.
 *
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // An empty variable means "not set", as in most shells' `FOO= cmd`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  const issues = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((i) => ({ name: String(i.path[0] ?? '?'), message: i.message }))),
    ...crossProblems(cleaned as Record<string, string>),
  ];
  if (parsed.success && issues.length === 0) return parsed.data;
  const problems = issues.map(({ name, message }) => {
    const fix = HOW_TO_FIX[name];
    return `  ${name}: ${message}${fix ? ` (${fix})` : ''}`;
  });
  throw new JitgateError(
    'config_invalid',
    `jitgate cannot start; fix the environment:\n${problems.join('\n')}`,
    { variables: issues.map((i) => i.name) },
  );
}

/** Sign-in at the authorizer, when JITGATE_OIDC_ISSUER is set. */
export interface SignInConfig {
  issuer: string;
  clientId: string;
  /** The secret itself, or the path of a file holding it. */
  clientSecret: string;
  scopes: string[];
  sessionTtlMs: number;
  /**
   * How a signed-in person is matched to grants: by Slack user id for Sign in with Slack (issuer
   * `https://slack.com`), by verified e-mail for any other issuer.
   */
  matchBy: 'slack' | 'email';
}

/**
 * The sign-in settings, or undefined when sign-in is off (JITGATE_OIDC_ISSUER unset).
 *
 * @example const signIn = signInConfig(config); if (signIn) console.log(signIn.issuer);
 */
export function signInConfig(config: Config): SignInConfig | undefined {
  if (!config.JITGATE_OIDC_ISSUER) return undefined;
  // loadConfig has already refused an issuer without its client id and secret.
  return {
    issuer: config.JITGATE_OIDC_ISSUER,
    clientId: config.JITGATE_OIDC_CLIENT_ID!,
    clientSecret: config.JITGATE_OIDC_CLIENT_SECRET!,
    scopes: config.JITGATE_OIDC_SCOPES,
    sessionTtlMs: config.JITGATE_SESSION_TTL,
    matchBy: config.JITGATE_OIDC_ISSUER === 'https://slack.com' ? 'slack' : 'email',
  };
}

/** The PostgreSQL gateway's listener, when JITGATE_POSTGRES_PORT is set. */
export interface PostgresListenerConfig {
  port: number;
  /** Each a PEM text or the path of a file holding one (read when the authorizer starts). */
  tls: { cert: string; key: string } | undefined;
  plaintext: boolean;
}

/**
 * The gateway's listener settings, or undefined when it is off (JITGATE_POSTGRES_PORT unset).
 *
 * @example const pg = postgresListenerConfig(config); if (pg) console.log(pg.port);
 */
export function postgresListenerConfig(config: Config): PostgresListenerConfig | undefined {
  if (config.JITGATE_POSTGRES_PORT === undefined) return undefined;
  const { JITGATE_POSTGRES_TLS_CERT: cert, JITGATE_POSTGRES_TLS_KEY: key } = config;
  return {
    port: config.JITGATE_POSTGRES_PORT,
    tls: cert && key ? { cert, key } : undefined,
    plaintext: config.JITGATE_POSTGRES_PLAINTEXT === 'on',
  };
}

/** Problems that only matter for the processes that talk to Slack. */
export function requireSlack(config: Config): { botToken: string; signingSecret: string; appToken?: string } {
  const missing: string[] = [];
  if (!config.SLACK_BOT_TOKEN) missing.push('  SLACK_BOT_TOKEN: not set (the Bot User OAuth Token, xoxb-…)');
  if (!config.SLACK_SIGNING_SECRET && !config.SLACK_APP_TOKEN)
    missing.push(
      '  SLACK_SIGNING_SECRET: not set (Basic Information → Signing Secret), or set SLACK_APP_TOKEN for Socket Mode',
    );
  if (missing.length > 0) {
    throw new JitgateError(
      'config_invalid',
      `jitgate needs Slack credentials:\n${missing.join('\n')}\nCreate the app from manifest.yml (see README), or try it without Slack: npm run demo`,
      {},
    );
  }
  return {
    botToken: config.SLACK_BOT_TOKEN!,
    signingSecret: config.SLACK_SIGNING_SECRET ?? '',
    ...(config.SLACK_APP_TOKEN ? { appToken: config.SLACK_APP_TOKEN } : {}),
  };
}

/**
 * The name of every variable the environment is read for (deployment files are checked against it).
 *
 * @example ENVIRONMENT_VARIABLES.includes('REDIS_URL') // true
 */
export const ENVIRONMENT_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);
