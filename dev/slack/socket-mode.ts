import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  ackPayload,
  type DeliveryState,
  disconnectMessage,
  type EnvelopeType,
  envelopeOf,
  helloMessage,
  type LoseOnPurpose,
  newDelivery,
  type SocketDelivery,
  unansweredCopies,
} from './socket-envelopes.js';
import type { SlackBody } from './standin-answers.js';

export type { EnvelopeType, LoseOnPurpose, SocketAck, SocketDelivery } from './socket-envelopes.js';

/**
 * Slack's Socket Mode, on this machine: `apps.connections.open` hands out a one-time `ws://` URL on
 * the stand-in's own port; a connection is greeted with `hello`; commands, interactions and events
 * arrive in envelopes that the app acknowledges by `envelope_id`. Delivery is at least once, as
 * Slack's is: an envelope not acknowledged in time, or in flight on a connection that closes, is sent
 * again (with a new `envelope_id` and, for events, `retry_attempt`/`retry_reason`); envelopes that
 * arrive while no connection is open wait for the next one; and some can be sent twice on purpose.
 * Shapes follow https://docs.slack.dev/apis/events-api/using-socket-mode and @slack/socket-mode.
 */

export interface SocketModeOptions {
  /** The app-level token (`xapp-…`) that `apps.connections.open` accepts. */
  appToken: string;
  /** `connection_info.app_id` in `hello`; default `A0JITGATE`. */
  appId?: string;
  /** An envelope not acknowledged this long after it was sent is sent again (Slack waits about 3 s). */
  redeliverAfterMs?: number;
  /** Attempts in all (the first and the re-deliveries) before an envelope is given up; default 4. */
  maxAttempts?: number;
  /** Every n-th envelope is sent twice, back to back, with the same `envelope_id` (1: every one; 0: none). */
  duplicateEvery?: number;
}

interface Connection {
  ws: WebSocket;
  ready: boolean;
  /** Envelopes sent on this connection and not yet acknowledged, by envelope id. */
  inFlight: Map<string, DeliveryState>;
}

export class SocketModeStandin {
  readonly deliveries: SocketDelivery[] = [];
  /** Acks that named no envelope the stand-in sent. */
  readonly strayAcks: unknown[] = [];
  /** Connections opened since the start (a reconnect adds one). */
  connectionsOpened = 0;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly connections = new Set<Connection>();
  private readonly tickets = new Set<string>();
  private readonly byEnvelope = new Map<string, DeliveryState>();
  private readonly waiting: DeliveryState[] = [];
  private readonly events = new EventEmitter();
  private readonly redeliverAfterMs: number;
  private readonly maxAttempts: number;
  private duplicateEvery: number;
  private count = 0;
  private next = 0;
  private closed = false;

  constructor(
    private readonly options: SocketModeOptions,
    private readonly wsBase: () => string,
  ) {
    this.redeliverAfterMs = options.redeliverAfterMs ?? 3000;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.duplicateEvery = options.duplicateEvery ?? 0;
    this.events.setMaxListeners(0);
  }

  /** What `apps.connections.open` answers for `token` (sent as `Authorization: Bearer`). */
  open(token: string | undefined): SlackBody {
    if (token === undefined) return { ok: false, error: 'not_authed' };
    if (!token.startsWith('xapp-')) return { ok: false, error: 'not_allowed_token_type' };
    if (token !== this.options.appToken) return { ok: false, error: 'invalid_auth' };
    const ticket = randomUUID();
    this.tickets.add(ticket);
    return { ok: true, url: `${this.wsBase()}/link/?ticket=${ticket}&app_id=${this.appId}` };
  }

  /** Takes over an HTTP upgrade to `/link/?ticket=…`; false when it is not one (the caller answers). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://standin.invalid');
    if (url.pathname !== '/link/' && url.pathname !== '/link') return false;
    const ticket = url.searchParams.get('ticket') ?? '';
    // A ticket is good for one connection, as Slack's are.
    if (this.closed || !this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    return true;
  }

  /**
   * Sends a payload as Slack would and resolves with its delivery once it is acknowledged, or once
   * every attempt went unanswered (`gaveUp`). `twice` sends this one twice whatever `duplicateEvery`
   * says; `lose` drops sends or acks on the way, so that it is sent again.
   */
  deliver(
    type: EnvelopeType,
    payload: SlackBody,
    options: { twice?: boolean; lose?: LoseOnPurpose } = {},
  ): Promise<SocketDelivery> {
    this.count += 1;
    const delivery = newDelivery(type, payload);
    this.deliveries.push(delivery);
    const twice = options.twice ?? (this.duplicateEvery > 0 && this.count % this.duplicateEvery === 0);
    return new Promise((resolve) => {
      const state: DeliveryState = {
        delivery,
        twice,
        lose: { sends: options.lose?.sends ?? 0, acks: options.lose?.acks ?? 0 },
        unanswered: new Map(),
        retryReason: '',
        timer: undefined,
        settle: () => resolve(delivery),
      };
      this.dispatch(state);
    });
  }

  /**
   * Resolves once every copy of `delivery` that reached the app has been acknowledged (or it gave
   * up): then the app has seen each of them, the duplicates too.
   */
  allAcked(delivery: SocketDelivery, timeoutMs = 5000): Promise<void> {
    const state = this.stateOf(delivery);
    return this.until(
      'ack',
      () => delivery.gaveUp || (delivery.ack !== undefined && unansweredCopies(state) === 0),
      () => `${unansweredCopies(state)} of ${delivery.sends} copies not acknowledged`,
      timeoutMs,
    );
  }

  /** Calls `listener` with each envelope as it is sent (or lost on purpose); returns an unsubscribe. */
  onEnvelope(listener: (envelope: Record<string, unknown>) => void): () => void {
    this.events.on('envelope', listener);
    return () => this.events.off('envelope', listener);
  }

  /**
   * Asks open connections to go (`{"type":"disconnect","reason":…}`), as Slack does before it
   * recycles a connection: all of them, or the `count` oldest. A client that has not closed after
   * `closeAfterMs` is cut off. Answers how many connections were asked.
   */
  disconnect(reason = 'refresh_requested', options: { count?: number; closeAfterMs?: number } = {}): number {
    const open = [...this.connections].filter((c) => c.ready).slice(0, options.count);
    for (const c of open) {
      c.ready = false;
      c.ws.send(disconnectMessage(reason));
      setTimeout(() => c.ws.terminate(), options.closeAfterMs ?? 1000).unref();
    }
    return open.length;
  }

  /** Sends `data` as it is on every open connection: what Slack never sends (broken JSON, unknown types). */
  sendRaw(data: string | Buffer): void {
    for (const c of this.connections) if (c.ready) c.ws.send(data);
  }

  /** Cuts every connection without a word (a network failure). */
  drop(): void {
    for (const c of this.connections) c.ws.terminate();
  }

  /** Connections that have been greeted and not asked to go. */
  get openConnections(): number {
    return [...this.connections].filter((c) => c.ready).length;
  }

  /** Resolves once at least `n` connections have been opened since the start (`connectionsOpened`). */
  waitForConnections(n = 1, timeoutMs = 10_000): Promise<void> {
    return this.until(
      'hello',
      () => this.connectionsOpened >= n && this.openConnections > 0,
      () => `${this.connectionsOpened} Socket Mode connection(s) opened, wanted ${n}`,
      timeoutMs,
    );
  }

  /** Closes every connection; deliveries still waiting give up. */
  async close(): Promise<void> {
    this.closed = true;
    for (const state of [...this.waiting, ...this.byEnvelope.values()]) this.giveUp(state);
    this.waiting.length = 0;
    for (const c of this.connections) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  /** Resolves when `done()` holds, checked now and at each `event`; rejects with `why()` after `timeoutMs`. */
  private until(event: string, done: () => boolean, why: () => string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.events.off(event, check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.events.off(event, check);
        reject(new Error(why()));
      }, timeoutMs);
      this.events.on(event, check);
      check();
    });
  }

  private get appId(): string {
    return this.options.appId ?? 'A0JITGATE';
  }

  private accept(ws: WebSocket): void {
    const connection: Connection = { ws, ready: true, inFlight: new Map() };
    this.connections.add(connection);
    this.connectionsOpened += 1;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.onMessage(String(data));
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.connections.delete(connection);
      // Copies on a connection that went away will not be answered; an envelope whose latest attempt
      // was among them is sent again on another (or the next) connection.
      const latest = [...connection.inFlight].filter(
        ([id, state]) => state.delivery.envelopeIds.at(-1) === id,
      );
      for (const [envelopeId, state] of connection.inFlight) state.unanswered.delete(envelopeId);
      connection.inFlight.clear();
      for (const [, state] of latest) this.retry(state, 'connection_closed');
      this.events.emit('ack');
    });
    ws.send(helloMessage(this.connections.size, this.appId));
    this.events.emit('hello');
    for (const state of this.waiting.splice(0)) this.dispatch(state);
  }

  private dispatch(state: DeliveryState): void {
    if (this.closed) {
      this.giveUp(state);
      return;
    }
    const ready = [...this.connections].filter((c) => c.ready);
    if (ready.length === 0) {
      this.waiting.push(state);
      return;
    }
    // Any connection may get any envelope (Slack spreads them); round robin makes that visible.
    const connection = ready[this.next++ % ready.length]!;
    const { delivery } = state;
    const envelopeId = randomUUID();
    delivery.envelopeIds.push(envelopeId);
    this.byEnvelope.set(envelopeId, state);
    const attempt = delivery.envelopeIds.length - 1;
    const message = envelopeOf(state, envelopeId);
    const envelope = JSON.stringify(message);
    this.events.emit('envelope', message);
    connection.inFlight.set(envelopeId, state);
    if (state.lose.sends > 0) {
      state.lose.sends -= 1;
      delivery.lost.sends += 1;
    } else {
      const copies = state.twice && attempt === 0 ? 2 : 1;
      for (let i = 0; i < copies; i += 1) connection.ws.send(envelope);
      delivery.sends += copies;
      state.unanswered.set(envelopeId, copies);
    }
    state.timer = setTimeout(() => {
      this.retry(state, 'timeout');
    }, this.redeliverAfterMs);
    state.timer.unref();
  }

  private retry(state: DeliveryState, reason: string): void {
    clearTimeout(state.timer);
    if (state.delivery.ack) return;
    if (state.delivery.envelopeIds.length >= this.maxAttempts) {
      this.giveUp(state);
      return;
    }
    state.retryReason = reason;
    this.dispatch(state);
  }

  private giveUp(state: DeliveryState): void {
    clearTimeout(state.timer);
    if (state.delivery.ack || state.delivery.gaveUp) return;
    state.delivery.gaveUp = true;
    state.settle();
  }

  private onMessage(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.strayAcks.push(text);
      return;
    }
    const m = (message ?? {}) as { envelope_id?: unknown; payload?: unknown };
    const state = typeof m.envelope_id === 'string' ? this.byEnvelope.get(m.envelope_id) : undefined;
    if (!state) {
      this.strayAcks.push(message);
      return;
    }
    const envelopeId = m.envelope_id as string;
    const left = (state.unanswered.get(envelopeId) ?? 1) - 1;
    if (left > 0) state.unanswered.set(envelopeId, left);
    else {
      state.unanswered.delete(envelopeId);
      for (const c of this.connections) c.inFlight.delete(envelopeId);
    }
    const { delivery } = state;
    if (delivery.ack || delivery.gaveUp) {
      delivery.extraAcks += 1;
      this.events.emit('ack');
      return;
    }
    if (state.lose.acks > 0) {
      // Lost on the way: Slack never hears of it and sends the envelope again when its time is up.
      state.lose.acks -= 1;
      delivery.lost.acks += 1;
      this.events.emit('ack');
      return;
    }
    clearTimeout(state.timer);
    const payload = ackPayload(delivery, m.payload);
    delivery.ack = { envelopeId, payload, at: Date.now() };
    state.settle();
    this.events.emit('ack');
  }

  private stateOf(delivery: SocketDelivery): DeliveryState | undefined {
    const id = delivery.envelopeIds.at(-1);
    return id ? this.byEnvelope.get(id) : undefined;
  }
}
