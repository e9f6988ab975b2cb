/**
 * The lifecycle's use cases, free of Slack and HTTP. Each is one function that checks, loads, decides
 * and saves, then returns `{ request, resource, change, effects }`: what changed and what must follow
 * (messages, DMs, App Homes), for the bot to carry out. Jobs (timeouts, expiries) are scheduled by
 * the use cases themselves: they are part of the state, whoever called.
 */
export { approveRequest } from './approve.js';
export { cancelRequest } from './cancel.js';
export { denyRequest } from './deny.js';
export type { AccessDeps } from './deps.js';
export { type Change, type Effect, type EffectType, effectsOf, type Outcome } from './effects.js';
export { type Expiry, endGrant, type GrantDue, type GrantEnd, timeOutRequest } from './expire.js';
export { type ExtendInput, extendGrant } from './extend.js';
export { redeemLink } from './follow-up.js';
export { decidableRequest, loadRequest } from './load.js';
export { accessOf, awaitingDecision } from './queries.js';
export { type RedeemDeps, type Redeemed, type RedeemInput, redeemGrant } from './redeem.js';
export { type RequestAsk, type RequestInput, requestAccess } from './request.js';
export { revokeGrant } from './revoke.js';
export { AccessService } from './service.js';
