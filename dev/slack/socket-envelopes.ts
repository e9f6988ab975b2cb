import type { SlackBody } from './standin-answers.js';

/**
 * What Slack sends over a Socket Mode connection and what it makes of the app's answers, as
 * https://docs.slack.dev/apis/events-api/using-socket-mode and @slack/socket-mode describe them;
 * socket-mode.ts decides when and where each goes.
 */

/** The envelope types Slack sends: slash commands, interactions (clicks, submissions), Events API. */
export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface SocketAck {
  /** The envelope id the app acknowledged (one of the delivery's). */
  envelopeId: string;
  /** What the app sent back where Slack reads it (`accepts_response_payload`), else undefined. */
  payload: SlackBody | undefined;
  at: number;
}

/** One thing Slack delivers, across every attempt and copy. */
export interface SocketDelivery {
  type: EnvelopeType;
  payload: SlackBody;
  /** One per attempt, oldest first. */
  envelopeIds: string[];
  /** How many times it was sent, copies sent on purpose included. */
  sends: number;
  /** The first acknowledgement; later ones (of copies and re-deliveries) count in `extraAcks`. */
  ack: SocketAck | undefined;
  extraAcks: number;
  /** Set when every attempt went unacknowledged. */
  gaveUp: boolean;
  /** Sends and acks lost on the way on purpose (`deliver`'s `lose`). */
  lost: { sends: number; acks: number };
}

/** What `deliver` loses on purpose: the first `sends` envelopes never reach the app, its first `acks` never reach Slack. */
export interface LoseOnPurpose {
  sends?: number;
  acks?: number;
}

/** The stand-in's bookkeeping for one delivery. */
export interface DeliveryState {
  delivery: SocketDelivery;
  twice: boolean;
  lose: Required<LoseOnPurpose>;
  /** Copies that reached the app and are not answered yet, by envelope id. */
  unanswered: Map<string, number>;
  retryReason: string;
  timer: NodeJS.Timeout | undefined;
  settle: () => void;
}

const HOST = 'applink-standin';

/** A delivery not sent yet. */
export function newDelivery(type: EnvelopeType, payload: SlackBody): SocketDelivery {
  return {
    type,
    payload,
    envelopeIds: [],
    sends: 0,
    ack: undefined,
    extraAcks: 0,
    gaveUp: false,
    lost: { sends: 0, acks: 0 },
  };
}

/** `hello`: the first message on a connection. */
export function helloMessage(numConnections: number, appId: string): string {
  return JSON.stringify({
    type: 'hello',
    num_connections: numConnections,
    debug_info: { host: HOST, build_number: 1, approximate_connection_time: 18060 },
    connection_info: { app_id: appId },
  });
}

/** `disconnect`: Slack asks the app to go (`refresh_requested`, `warning`, `link_disabled`, …). */
export function disconnectMessage(reason: string): string {
  return JSON.stringify({ type: 'disconnect', reason, debug_info: { host: HOST } });
}

/**
 * One attempt at a delivery: its envelope, with `retry_attempt` and `retry_reason` for events, and
 * `accepts_response_payload` where Slack reads an answer (commands and interactions).
 */
export function envelopeOf(state: DeliveryState, envelopeId: string): Record<string, unknown> {
  const { delivery } = state;
  return {
    envelope_id: envelopeId,
    type: delivery.type,
    payload: delivery.payload,
    accepts_response_payload: delivery.type !== 'events_api',
    ...(delivery.type === 'events_api'
      ? { retry_attempt: delivery.envelopeIds.length - 1, retry_reason: state.retryReason }
      : {}),
  };
}

/** What Slack reads of an ack's payload: the object, where the envelope accepts one. */
export function ackPayload(delivery: SocketDelivery, payload: unknown): SlackBody | undefined {
  return delivery.type !== 'events_api' && payload && typeof payload === 'object'
    ? (payload as SlackBody)
    : undefined;
}

/** Copies of a delivery that reached the app and are not answered yet. */
export function unansweredCopies(state: DeliveryState | undefined): number {
  return [...(state?.unanswered.values() ?? [])].reduce((a, b) => a + b, 0);
}
