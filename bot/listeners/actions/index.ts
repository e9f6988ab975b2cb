import type { App } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';
import { ACTION_IDS, OPEN_LINK_ACTION_ID } from '../../views/actions.js';
import { approveButton } from './approve.js';
import { cancelButton } from './cancel.js';
import { denyButton } from './deny.js';
import { reviewButton } from './review.js';
import { revokeButton } from './revoke.js';

export function register(app: App, deps: BotDeps): void {
  app.action(ACTION_IDS.approve, approveButton(deps));
  app.action(ACTION_IDS.deny, denyButton(deps));
  app.action(ACTION_IDS.revoke, revokeButton(deps));
  app.action(ACTION_IDS.cancel, cancelButton(deps));
  app.action(ACTION_IDS.reviewOk, reviewButton(deps, 'justified'));
  app.action(ACTION_IDS.reviewFlag, reviewButton(deps, 'flagged'));
  // The redeem link opens in the browser; Slack still reports the click, which needs only an ack.
  app.action(OPEN_LINK_ACTION_ID, async ({ ack }) => {
    await ack();
  });
}
