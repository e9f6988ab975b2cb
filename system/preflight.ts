import { type Config, requireSlack } from '../shared/config.js';
import { JitgateError } from '../shared/errors.js';

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

/** Fails at once, saying how to make a key set, when the authorizer has none. */
export function requireSigningKeys(config: Config): string {
  if (!config.JITGATE_SIGNING_KEYS) throw new JitgateError('config_invalid', NO_KEYS, {});
  return config.JITGATE_SIGNING_KEYS;
}
