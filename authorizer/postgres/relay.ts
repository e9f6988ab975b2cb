import type { Duplex } from 'node:stream';

/**
 * Follows the message boundaries of one direction of a relayed session without copying it: bytes
 * pass on as they came, and only the five-byte headers are read. So the gateway knows when it may
 * write a message of its own (between two of the server's), and sees the statements a client sends.
 */
export class FrameTracker {
  private head = Buffer.alloc(5);
  private headLength = 0;
  private left = 0;
  private type = 0;
  private captured: Buffer[] = [];
  private capturedLength = 0;

  /** `onMessage` is told of each whole message whose type is in `capture`, with up to `max` bytes of its body. */
  constructor(
    private readonly capture?: ReadonlySet<number>,
    private readonly max = 0,
    private readonly onMessage?: (type: number, body: Buffer) => void,
  ) {}

  /** Between two messages: a message of the gateway's own can be written now. */
  get atBoundary(): boolean {
    return this.headLength === 0 && this.left === 0;
  }

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.left === 0 && this.headLength < 5) {
        const n = Math.min(5 - this.headLength, chunk.length - at);
        chunk.copy(this.head, this.headLength, at, at + n);
        this.headLength += n;
        at += n;
        if (this.headLength < 5) return;
        this.type = this.head[0]!;
        this.left = Math.max(0, this.head.readInt32BE(1) - 4);
        if (this.left === 0) this.done();
        continue;
      }
      const n = Math.min(this.left, chunk.length - at);
      if (this.capture?.has(this.type) && this.capturedLength < this.max) {
        const part = chunk.subarray(at, at + Math.min(n, this.max - this.capturedLength));
        this.captured.push(part);
        this.capturedLength += part.length;
      }
      this.left -= n;
      at += n;
      if (this.left === 0) this.done();
    }
  }

  private done(): void {
    if (this.capture?.has(this.type) && this.onMessage) {
      this.onMessage(
        this.type,
        this.captured.length === 1 ? this.captured[0]! : Buffer.concat(this.captured),
      );
    }
    this.captured = [];
    this.capturedLength = 0;
    this.headLength = 0;
  }
}

export interface RelayStats {
  statements: number;
  bytesFromClient: number;
  bytesToClient: number;
}

const QUERY = 'Q'.charCodeAt(0);
const PARSE = 'P'.charCodeAt(0);
const EXECUTE = 'E'.charCodeAt(0);
const CAPTURED = new Set([QUERY, PARSE, EXECUTE]);

/**
 * Relays a logged-in session both ways with backpressure, counting bytes and statements (simple
 * Query and extended Execute) and handing each statement's text (Query, Parse; at most
 * `maxStatement` bytes) to `onStatement`. `end(message)` stops it: the client gets `message` when
 * the server is between messages (else the socket is just closed: a message written into the middle
 * of another would garble both), and the upstream socket is destroyed.
 */
export function relay(options: {
  client: Duplex;
  upstream: Duplex;
  maxStatement: number;
  onStatement: (text: string) => void;
  onClose: (stats: RelayStats) => void;
}) {
  const { client, upstream } = options;
  const stats: RelayStats = { statements: 0, bytesFromClient: 0, bytesToClient: 0 };
  const fromClient = new FrameTracker(CAPTURED, options.maxStatement, (type, body) => {
    if (type === EXECUTE) {
      stats.statements += 1;
      return;
    }
    if (type === QUERY) stats.statements += 1;
    // Query: the text, NUL-terminated. Parse: the statement's name, then the text.
    const start = type === PARSE ? body.indexOf(0) + 1 : 0;
    const end = body.indexOf(0, start);
    const text = body.toString('utf8', start, end === -1 ? body.length : end);
    if (text !== '') options.onStatement(text);
  });
  const fromServer = new FrameTracker();
  let ended = false;

  const finish = () => {
    if (ended) return;
    ended = true;
    client.destroy();
    upstream.destroy();
    options.onClose(stats);
  };

  client.on('data', (chunk: Buffer) => {
    if (ended) return;
    stats.bytesFromClient += chunk.length;
    fromClient.feed(chunk);
    if (!upstream.write(chunk)) client.pause();
  });
  upstream.on('drain', () => client.resume());
  upstream.on('data', (chunk: Buffer) => {
    if (ended) return;
    stats.bytesToClient += chunk.length;
    fromServer.feed(chunk);
    if (!client.write(chunk)) upstream.pause();
  });
  client.on('drain', () => upstream.resume());
  client.on('close', finish);
  upstream.on('close', () => {
    // The server ended the session (it wrote its own FATAL first, when it had one to say): let the
    // client read what was written, then close.
    if (ended) return;
    client.end();
    client.once('finish', finish);
    setTimeout(finish, 1_000).unref();
  });
  client.on('error', finish);
  upstream.on('error', finish);

  return {
    stats,
    /** Ends the session from jitgate's side with this message (see above). */
    end(message: Buffer): void {
      if (ended) return;
      ended = true;
      upstream.destroy();
      let closed = false;
      const done = () => {
        if (closed) return;
        closed = true;
        client.destroy();
        options.onClose(stats);
      };
      if (!fromServer.atBoundary || !client.writable) {
        done();
        return;
      }
      client.end(message, done);
      client.once('close', done);
      setTimeout(done, 2_000).unref();
    },
  };
}
