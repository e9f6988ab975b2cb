/**
 * Slack on this machine, for the demo, the tests and the bench: the Web API stand-in (a real HTTP
 * server answering as Slack does, recording every call), Socket Mode on the same port, and requests
 * signed as Slack signs them.
 */

export * from './reply-ids.js';
export * from './requests.js';
export * from './socket-mode.js';
export * from './standin.js';
