import type { Logger } from '../shared/log.js';
import type { RedisClient } from '../shared/redis/connect.js';

/**
 * Listens on the revocations channel (a dedicated subscriber connection: a subscribed connection
 * can run no other command). Every revoke and every expiry publishes the grant id there.
 * Messages published while the connection was down are lost, so each (re)connection also calls
 * `onReconnect`, which re-checks the grants that still have open sockets.
 */
export function subscribeRevocations(options: {
  subscriber: RedisClient;
  channel: string;
  onRevoked: (grantId: string) => void;
  onReconnect: () => void;
  log: Logger;
}) {
  const { subscriber, channel, log } = options;
  let connectedBefore = false;

  const subscribe = () => {
    subscriber.subscribe(channel).catch((err) => log.warn({ err }, 'could not subscribe to revocations'));
  };
  const onReady = () => {
    subscribe();
    if (connectedBefore) options.onReconnect();
    connectedBefore = true;
  };
  const onMessage = (ch: string, message: string) => {
    if (ch === channel) options.onRevoked(message);
  };
  const onError = (err: Error) => log.warn({ err: err.message }, 'revocations subscriber error');

  subscriber.on('ready', onReady);
  subscriber.on('message', onMessage);
  subscriber.on('error', onError);
  if (subscriber.status === 'ready') onReady();

  return {
    async close(): Promise<void> {
      subscriber.off('ready', onReady);
      subscriber.off('message', onMessage);
      try {
        await subscriber.quit();
      } catch {
        subscriber.disconnect();
      }
      // A subscriber stopped before it was ready reports its failed QUIT after the fact: expected.
      subscriber.off('error', onError);
      subscriber.on('error', () => {});
    },
  };
}
