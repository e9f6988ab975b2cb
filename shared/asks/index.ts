/**
 * Requests asked for on a resource's refusal page by a signed-in person: the authorizer checks the
 * input and notes the ask (one per person and resource), the bot's worker files it through the
 * same use case as `/access`, and the page follows it here until it is decided.
 *
 * @module
 */
export { Ask, Asker, askerHash, followedRequest, sameAsker } from './ask.js';
export { type AskState, type AskStatus, askStatus, isWaiting } from './status.js';
export { AskStore, type ReadAsk } from './store.js';
