import type { Authorize } from '@slack/bolt';
import { LogLevel, type Logger as SlackLogger, WebClient, type WebClientOptions } from '@slack/web-api';
import type { Logger } from '../shared/log.js';
import { type BotSettings, DEFAULT_SLACK_RETRY } from './deps.js';
import type { Workspace } from './slack/workspace.js';

/**
 * The Web API client settings shared by Bolt's per-request clients and the bot's own: the base URL
 * (Slack, or the local stand-in), retries (429 waits for Retry-After, then 5xx and network errors
 * back off), a timeout per call, and a logger that never sees request bodies (they hold redeem links).
 */
export function slackClientOptions(
  settings: Pick<BotSettings, 'apiUrl' | 'retry'>,
  log: Logger,
): WebClientOptions {
  const retry = settings.retry ?? DEFAULT_SLACK_RETRY;
  return {
    ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}),
    retryConfig: {
      retries: retry.retries,
      factor: 2,
      minTimeout: retry.minMs,
      maxTimeout: retry.maxMs,
      randomize: true,
    },
    rejectRateLimitedCalls: false,
    timeout: 10_000,
    logger: quietLogger(log),
  };
}

/** The bot's own client, for the worker's messages and the listeners' DMs and updates. */
export function createSlackClient(
  botToken: string,
  settings: Pick<BotSettings, 'apiUrl' | 'retry'>,
  log: Logger,
): WebClient {
  return new WebClient(botToken, slackClientOptions(settings, log));
}

/**
 * One workspace, one bot token. The bot's own ids (for ignoring its own events) come from the
 * workspace's auth.test (bot/slack/workspace.ts); if that fails the bot still authorizes, it only
 * cannot recognise itself (the workspace guard refuses the delivery meanwhile).
 */
export function botAuthorize(
  workspace: { get(): Promise<Workspace> },
  botToken: string,
  log: Logger,
): Authorize<boolean> {
  return async () => {
    try {
      const { botUserId, botId } = await workspace.get();
      return { botToken, ...(botUserId ? { botUserId } : {}), ...(botId ? { botId } : {}) };
    } catch (err) {
      log.warn({ err: String(err) }, 'auth.test failed; continuing without the bot user id');
      return { botToken };
    }
  };
}

/** Web API messages at info and above; debug lines would carry request bodies. */
function quietLogger(log: Logger): SlackLogger {
  const child = log.child({ component: 'slack-web-api' });
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : String(m))).join(' ');
  return {
    debug: () => {},
    info: (...msg: unknown[]) => child.info(text(msg)),
    warn: (...msg: unknown[]) => child.warn(text(msg)),
    error: (...msg: unknown[]) => child.error(text(msg)),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}
