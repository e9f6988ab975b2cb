import type { Duplex } from 'node:stream';
import { type Message, PacketReader } from './protocol.js';

/** The client went away (or its socket failed) while the gateway was waiting for its next packet. */
export class ClientGone extends Error {
  override readonly name = 'ClientGone';
}

/** A packet the client sent that breaks the protocol: the reason goes into the ErrorResponse. */
export class ProtocolViolation extends Error {
  override readonly name = 'ProtocolViolation';
}

/**
 * The startup phase's reading side: awaits whole packets from a socket (which TLS may replace
 * halfway, see `switchTo`). Bounded by the reader's limits; a packet that breaks them rejects with
 * a ProtocolViolation before its bytes are buffered.
 */
export class PacketSource {
  readonly reader = new PacketReader();
  private socket: Duplex;
  private wake: (() => void) | undefined;
  private gone = false;
  private readonly onData = (chunk: Buffer) => {
    this.reader.push(chunk);
    this.wake?.();
  };
  private readonly onEnd = () => {
    this.gone = true;
    this.wake?.();
  };

  constructor(socket: Duplex) {
    this.socket = socket;
    this.attach();
  }

  /** The next startup packet (length first, no type byte). */
  startup(): Promise<Buffer> {
    return this.next(() => {
      const p = this.reader.takeStartup();
      if (p !== undefined && 'error' in p) throw new ProtocolViolation(p.error);
      return p;
    });
  }

  /** The next typed message, at most `max` bytes long. */
  message(max: number): Promise<Message> {
    return this.next(() => {
      const m = this.reader.takeMessage(max);
      if (m !== undefined && 'error' in m) throw new ProtocolViolation(m.error);
      return m;
    });
  }

  /** Reads from another socket from now on (the TLS socket wrapped around the first). */
  switchTo(socket: Duplex): void {
    this.detach();
    this.socket = socket;
    this.attach();
  }

  /** Gives up: a pending wait rejects (ClientGone), and nothing more is read. */
  abort(): void {
    this.gone = true;
    this.wake?.();
    this.detach();
  }

  /** Stops reading; answers the bytes already buffered (sent ahead of the login's end). */
  release(): Buffer {
    this.detach();
    return this.reader.rest();
  }

  private attach(): void {
    this.socket.on('data', this.onData);
    this.socket.on('end', this.onEnd);
    this.socket.on('close', this.onEnd);
    this.socket.on('error', this.onEnd);
  }

  private detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onEnd);
  }

  private next<T>(take: () => T | undefined): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        try {
          const got = take();
          if (got !== undefined) {
            this.wake = undefined;
            resolve(got);
            return;
          }
        } catch (err) {
          this.wake = undefined;
          reject(err);
          return;
        }
        if (this.gone) {
          this.wake = undefined;
          reject(new ClientGone('the client closed the connection'));
        }
      };
      this.wake = attempt;
      attempt();
    });
  }
}
