import type { WebClient } from '@slack/web-api';
import type { AccessService } from '../shared/access/service.js';
import type { Clock } from '../shared/clock.js';
import type { AccessStore } from '../shared/grants/store.js';
import type { Notifier } from '../shared/jobs/notifier.js';
import type { JobScheduler } from '../shared/jobs/scheduler.js';
import type { Logger } from '../shared/log.js';
import type { Policy } from '../shared/policy/types.js';
import type { HomeRefresher } from './effects/homes.js';
import type { MessageSync } from './slack/message-sync.js';
import type { SlackPeople } from './slack/people.js';

/** What the listeners work with. Built once by system/start.ts and passed down. */
export interface BotDeps {
  access: AccessService;
  store: AccessStore;
  scheduler: JobScheduler;
  /** The current policy; a function so that a reloaded policy takes effect without a restart. */
  policy: () => Policy;
  /** Who people are in Slack: user-group members (for the policy) and e-mail addresses (for the grant). */
  people: SlackPeople;
  /** The approval messages in their channels: posted once, then updated in place. */
  messages: MessageSync;
  /** App Homes, refreshed after changes (coalesced) and published when opened. */
  homes: HomeRefresher;
  /** What the worker says through Slack; the listeners use the same one for DMs. */
  notifier: Notifier;
  /** The bot's own Web API client (token, base URL and retries set). */
  client: WebClient;
  clock: Clock;
  log: Logger;
  /** With sign-in on: the plain URL a browser opens a resource at (the grant DM gives it). */
  openUrl?: ((resource: string) => string | undefined) | undefined;
  /** With sign-in on: the page where an approver confirms an approval with a fresh sign-in (approverStepUp). */
  stepUpUrl?: ((code: string) => string) | undefined;
}

/** How the bot talks to Slack. */
export interface BotSettings {
  botToken: string;
  /** HTTP mode verifies every request with it; unused in Socket Mode. */
  signingSecret: string;
  /** Set: Socket Mode (no public URL needed). */
  appToken?: string | undefined;
  /** The Web API base URL (tests and the demo point it at the local stand-in). */
  apiUrl?: string | undefined;
  retry?: SlackRetry | undefined;
  /**
   * HTTP mode: how long Bolt waits for a listener to acknowledge a delivery before answering 404
   * itself (a delivery nothing handles). Unset: Bolt's default, just over Slack's 3 s; tests that send
   * what the bot must not handle set it shorter.
   */
  unhandledRequestTimeoutMs?: number | undefined;
  /**
   * Socket Mode: how long a pong from Slack may take before the connection counts as lost, which is
   * also the pause before reconnecting. Unset: @slack/socket-mode's 5 s; tests set it shorter.
   */
  socketPingTimeoutMs?: number | undefined;
}

/** Web API retries: 429s wait for Retry-After; 5xx and network errors back off between `minMs` and `maxMs`. */
export interface SlackRetry {
  retries: number;
  minMs: number;
  maxMs: number;
}

export const DEFAULT_SLACK_RETRY: SlackRetry = { retries: 5, minMs: 1_000, maxMs: 30_000 };
