import type { KnownBlock } from '@slack/types';

/**
 * The interactive components' `action_id`s. They are part of jitgate's contract (DESIGN.md, "Slack
 * surface"): the listeners match on them and each button's `value` carries the id named here.
 */
export const ACTION_IDS = {
  /** value: the request id */
  approve: 'jit_approve',
  /** value: the request id */
  deny: 'jit_deny',
  /** value: the grant id */
  revoke: 'jit_revoke',
  /** value: the request id */
  cancel: 'jit_cancel',
  /** value: the grant id (a break-glass grant): it was justified */
  reviewOk: 'jit_review_ok',
  /** value: the grant id (a break-glass grant): flag it */
  reviewFlag: 'jit_review_flag',
} as const;

/**
 * URL buttons (the redeem link) open the browser, but Slack still sends the click to the app; the
 * actions listener acknowledges this id and does nothing else.
 */
export const OPEN_LINK_ACTION_ID = 'jit_open_link';

export type JitActionId = (typeof ACTION_IDS)[keyof typeof ACTION_IDS];

/** What a rendered message is: the fallback `text` (notifications, screen readers) and its blocks. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}
