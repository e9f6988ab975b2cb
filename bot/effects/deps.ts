import type { WebClient } from '@slack/web-api';
import type { AccessService } from '../../shared/access/service.js';
import type { Clock } from '../../shared/clock.js';
import type { AccessStore } from '../../shared/grants/store.js';
import type { Logger } from '../../shared/log.js';
import type { Policy, UsergroupLookup } from '../../shared/policy/types.js';
import type { MessageSync } from '../slack/message-sync.js';
import type { HomeRefresher } from './homes.js';

/** What carrying out an effect needs: the Slack client, the approval messages, and who approves what. */
export interface EffectDeps {
  client: WebClient;
  messages: MessageSync;
  policy: () => Policy;
  usergroups: UsergroupLookup;
  clock: Clock;
  log: Logger;
  /**
   * To re-read a request an effect names (an extension's original; absent, such an effect is
   * skipped), and to keep nudges within their bounds (bot/slack/nudge-budget.ts; absent, unbounded).
   */
  store?: Pick<AccessStore, 'queries' | 'redis' | 'keys'>;
  /**
   * With sign-in on at the authorizer (and only then present): the plain URL a browser opens a
   * resource at (undefined for a bearer-only one), which the grant DM gives instead of sending the
   * browser through the redeem link; the link is then for the command line, opened signed in.
   */
  openUrl?: ((resource: string) => string | undefined) | undefined;
  /** To make redeem links for queued effects. */
  access?: Pick<AccessService, 'redeemLink'>;
  /** Keeps App Homes up to date (coalesced); absent, `refresh-homes` does nothing. */
  homes?: Pick<HomeRefresher, 'refresh'>;
}
