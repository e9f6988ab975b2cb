export * from './redis.js';
export * from './slack-requests.js';
export * from './slack-standin.js';
