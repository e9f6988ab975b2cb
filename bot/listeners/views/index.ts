import type { App } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';
import { DENY_MODAL, REQUEST_MODAL, REVIEW_MODAL } from '../../views/modals.js';
import { denySubmitted } from './deny-submitted.js';
import { requestSubmitted } from './request-submitted.js';
import { reviewSubmitted } from './review-submitted.js';

export function register(app: App, deps: BotDeps): void {
  app.view(REQUEST_MODAL.callbackId, requestSubmitted(deps));
  app.view(DENY_MODAL.callbackId, denySubmitted(deps));
  app.view(REVIEW_MODAL.callbackId, reviewSubmitted(deps));
}
