/** Block Kit views: every message, modal and App Home jitgate renders. Pure functions, no I/O. */
export { ACTION_IDS, type JitActionId, OPEN_LINK_ACTION_ID, type SlackMessage } from './actions.js';
export { approvalMessage } from './approval-message.js';
export { databaseGrantedDm } from './database-dm.js';
export {
  breakGlassAlert,
  deniedDm,
  expiringSoonDm,
  grantEndedDm,
  grantedDm,
  nudgeDm,
  requestExpiredDm,
} from './dm.js';
export { type HomeData, homeView } from './home.js';
export {
  DENY_MODAL,
  denyModal,
  type ModalParse,
  parseDenyModal,
  parseRequestModal,
  REQUEST_MODAL,
  type RequestModalInput,
  requestModal,
} from './modals.js';
export { dateToken, escapeText, mention } from './mrkdwn.js';
export {
  alreadyApprovedReply,
  approvalRecordedReply,
  badInputReply,
  cancelledReply,
  deniedReply,
  errorReply,
  grantedReply,
  listReply,
  requestFiledReply,
  resourcesReply,
  revokedReply,
} from './replies.js';
