import { type Config, loadConfig, requireSlack } from '../shared/config.js';
import { isJitgateError, JitgateError } from '../shared/errors.js';
import { loadPolicyFile } from '../shared/policy/load.js';
import type { Policy } from '../shared/policy/types.js';
import { loadSigningKeys, type SigningKeys } from '../shared/tokens/index.js';
import type { Role, SystemOverrides } from './start.js';

/** How the bot signs in to Slack (and, in HTTP mode, checks that requests come from Slack). */
export interface SlackCredentials {
  botToken: string;
  /** HTTP mode verifies every request with it; unused in Socket Mode. */
  signingSecret: string;
  /** Set: Socket Mode (no public URL needed). */
  appToken?: string;
}

const NO_KEYS =
  'JITGATE_SIGNING_KEYS is not set. The authorizer signs and verifies access tokens with it.\n' +
  'Make a key set with `npm run keys -- generate --out keys.json` and set\n' +
  'JITGATE_SIGNING_KEYS=./keys.json (or to the JSON itself). Every authorizer must share it.';

/**
 * The Slack credentials the roles need, checked before anything starts: the bot needs its token and
 * a signing secret (or an app token for Socket Mode); the worker alone only posts, so only the token.
 */
export function slackCredentials(config: Config, botRole: boolean): SlackCredentials {
  if (botRole) return requireSlack(config);
  if (!config.SLACK_BOT_TOKEN) {
    throw new JitgateError(
      'config_invalid',
      'jitgate needs Slack credentials:\n  SLACK_BOT_TOKEN: not set (the Bot User OAuth Token, xoxb-…)\n' +
        'Create the app from manifest.yml (see README), or try it without Slack: npm run demo',
    );
  }
  return { botToken: config.SLACK_BOT_TOKEN, signingSecret: config.SLACK_SIGNING_SECRET ?? '' };
}

/** What a process needs before it opens anything, every part of it checked. */
export interface Checked {
  config: Config;
  slack: SlackCredentials | undefined;
  signingKeys: SigningKeys | undefined;
  /** The policy read from its file (undefined when the caller gave a policy object). */
  policy: Policy | undefined;
}

/**
 * Checks everything a start needs, all of it before reporting: the environment, the Slack
 * credentials, the signing keys and the policy file. One `config_invalid` error lists every problem
 * found, each part with what to do about it, so that an operator fixes them in one round instead of
 * meeting them one restart at a time. A part that the caller overrides is not checked.
 *
 * @example const checked = await preflight({ roles: new Set(['authorizer']), env: process.env, overrides: {} });
 */
export async function preflight(input: {
  roles: ReadonlySet<Role>;
  /** The raw environment, parsed here (its problems are reported with the rest); or: */
  env?: Record<string, string | undefined>;
  /** An already parsed configuration. */
  config?: Config;
  overrides: SystemOverrides;
}): Promise<Checked> {
  const { roles, overrides: o } = input;
  const problems: JitgateError[] = [];
  const attempt = async <T>(check: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await check();
    } catch (err) {
      if (!isJitgateError(err)) throw err;
      problems.push(err);
      return undefined;
    }
  };

  const config = input.config ?? parseLeniently(input.env ?? {}, problems);
  const slackSide = roles.has('bot') || roles.has('worker');
  const slack = slackSide
    ? (o.slack ?? (await attempt(() => slackCredentials(config, roles.has('bot')))))
    : undefined;
  const signingKeys =
    roles.has('authorizer') && !o.signingKeys
      ? await attempt(() => {
          if (!config.JITGATE_SIGNING_KEYS) throw new JitgateError('config_invalid', NO_KEYS, {});
          return loadSigningKeys(config.JITGATE_SIGNING_KEYS);
        })
      : o.signingKeys;
  const source = o.policy ?? config.JITGATE_POLICY;
  const policy = typeof source === 'string' ? await attempt(() => loadPolicyFile(source)) : undefined;

  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) {
    throw new JitgateError(
      'config_invalid',
      `jitgate cannot start: ${problems.length} problems, each with what to do.\n\n` +
        problems.map((p, i) => `${i + 1}. ${p.message}`).join('\n\n'),
      { problems: problems.map((p) => ({ code: p.code, ...p.fields })) },
    );
  }
  return { config, slack, signingKeys, policy };
}

/**
 * The environment parsed; when it has problems they are recorded, and the rest is parsed without the
 * variables at fault (their defaults stand in), so that the keys and the policy are still checked
 * with what the operator set.
 */
function parseLeniently(env: Record<string, string | undefined>, problems: JitgateError[]): Config {
  let rest = { ...env };
  for (let round = 0; round < 3; round++) {
    try {
      return loadConfig(rest);
    } catch (err) {
      if (!isJitgateError(err, 'config_invalid')) throw err;
      if (round === 0) problems.push(err);
      const named = (err.fields.variables as string[] | undefined) ?? [];
      // A variable that is missing because another is set (the sign-in client for the issuer).
      const without = new Set([
        ...named,
        ...(named.some((n) => n.startsWith('JITGATE_OIDC_')) ? ['JITGATE_OIDC_ISSUER'] : []),
      ]);
      rest = Object.fromEntries(Object.entries(rest).filter(([name]) => !without.has(name)));
    }
  }
  return loadConfig({});
}
