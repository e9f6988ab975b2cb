import type { BotDeps } from '../deps.js';
import { firstDelivery as markDelivery } from '../slack/deliveries.js';
import { afterAck } from './in-flight.js';

/** A day: Slack retries within minutes, and a replayed request is refused after 5 minutes anyway. */
const REMEMBER_SEC = 86_400;

/**
 * True the first time a delivery is seen. Call it right after `ack()` and before changing anything:
 * a Slack retry (`x-slack-retry-num`) or a replay of the same signed request carries the same id,
 * and its second arrival must change nothing. It first waits for the delivery's turn to work after
 * its ack (`afterAck`: a burst is acknowledged before its work crowds the event loop).
 */
export async function firstDelivery(
  deps: BotDeps,
  body: unknown,
  context: Record<string, unknown>,
): Promise<boolean> {
  await afterAck(context);
  const id = deliveryId(body, context);
  if (!id) return true;
  const first = await markDelivery(deps.store.redis, deps.store.keys, id, REMEMBER_SEC);
  if (!first) deps.log.info({ delivery: id }, 'duplicate Slack delivery ignored');
  return first;
}

/**
 * What makes a delivery the same one: the trigger of a command, click or submission (with the
 * click's own timestamp), the event id of an event; else the hash of the signed body.
 */
export function deliveryId(body: unknown, context: Record<string, unknown>): string | undefined {
  const b = (body ?? {}) as Record<string, unknown>;
  const trigger = typeof b.trigger_id === 'string' && b.trigger_id !== '' ? b.trigger_id : undefined;
  if (typeof b.command === 'string' && trigger) return `cmd:${trigger}`;
  if (b.type === 'block_actions') {
    const action = (b.actions as { action_ts?: unknown }[] | undefined)?.[0];
    const ts = typeof action?.action_ts === 'string' ? action.action_ts : '';
    const user = (b.user as { id?: unknown } | undefined)?.id;
    if (trigger || ts) return `act:${String(user)}:${trigger ?? ''}:${ts}`;
  }
  if (b.type === 'view_submission' && trigger) return `view:${trigger}`;
  if (b.type === 'event_callback' && typeof b.event_id === 'string') return `evt:${b.event_id}`;
  return typeof context.bodyHash === 'string' && context.bodyHash !== ''
    ? `raw:${context.bodyHash}`
    : undefined;
}
