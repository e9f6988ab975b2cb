import { z } from 'zod';
import { JitgateError } from './errors.js';

/** The environment of DESIGN.md, parsed once at start. The only place in shared/ that sees env. */
const Port = z.coerce
  .number({ error: 'must be a port number' })
  .int('must be a whole number')
  .min(0, 'must be 0 to 65535')
  .max(65535, 'must be 0 to 65535');

const EnvSchema = z.object({
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .refine((s) => /^rediss?:\/\//.test(s), 'must start with redis:// or rediss://'),
  JITGATE_POLICY: z.string().min(1).default('./policy.yml'),
  JITGATE_PUBLIC_URL: z
    .string()
    .default('http://127.0.0.1:8080')
    .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), 'must be an http(s) URL')
    .transform((s) => s.replace(/\/+$/, '')),
  JITGATE_SIGNING_KEYS: z.string().min(1).optional(),
  SLACK_BOT_TOKEN: z.string().min(1).optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_APP_TOKEN: z.string().min(1).optional(),
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
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
});

export type Config = z.infer<typeof EnvSchema>;

const HOW_TO_FIX: Record<string, string> = {
  REDIS_URL: 'e.g. REDIS_URL=redis://127.0.0.1:6379',
  JITGATE_PUBLIC_URL: 'e.g. JITGATE_PUBLIC_URL=https://access.example.com',
  JITGATE_REDIS_PREFIX: 'e.g. JITGATE_REDIS_PREFIX=jitgate',
  JITGATE_WORKER: 'JITGATE_WORKER=on or JITGATE_WORKER=off',
  BOT_PORT: 'e.g. BOT_PORT=3000',
  AUTHORIZER_PORT: 'e.g. AUTHORIZER_PORT=8080',
  SLACK_API_URL: 'leave it unset for Slack itself',
  LOG_LEVEL: 'e.g. LOG_LEVEL=info',
};

/**
 * Parses the environment. Throws one `config_invalid` error that lists every problem and its fix.
 *
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // An empty variable means "not set", as in most shells' `FOO= cmd`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '?');
    const fix = HOW_TO_FIX[name];
    return `  ${name}: ${issue.message}${fix ? ` (${fix})` : ''}`;
  });
  throw new JitgateError(
    'config_invalid',
    `jitgate cannot start; fix the environment:\n${problems.join('\n')}`,
    {
      variables: parsed.error.issues.map((i) => String(i.path[0])),
    },
  );
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
