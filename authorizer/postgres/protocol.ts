/**
 * The parts of the PostgreSQL frontend/backend protocol (version 3.0) that the gateway speaks
 * itself: the startup phase, authentication and errors. After login it relays messages unchanged,
 * reading only their type and length (see relay.ts).
 *
 * Startup packets have no type byte: Int32 length (itself included), then Int32 code. Every later
 * message is Byte1 type, Int32 length (itself included, not the type), body.
 */

export const PROTOCOL_3_0 = 196608; // 3 << 16
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** PostgreSQL's own limit for a startup packet (MAX_STARTUP_PACKET_LENGTH). */
export const MAX_STARTUP_LENGTH = 10_000;
/** A password message is an access token (a JWT of well under 2 KB); anything far longer is refused unread. */
export const MAX_PASSWORD_LENGTH = 8_192;

/** Startup parameters (`user`, `database`, `application_name`, …), in the order sent. */
export type StartupParams = Map<string, string>;

export type StartupPacket =
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; pid: number; secret: number }
  | { kind: 'startup'; minor: number; params: StartupParams }
  | { kind: 'bad'; why: string };

/**
 * Reads one startup packet from its complete bytes (length included). Never throws: anything
 * malformed is `bad` with the reason, for the ErrorResponse.
 */
export function parseStartup(packet: Buffer): StartupPacket {
  if (packet.length < 8) return { kind: 'bad', why: 'startup packet too short' };
  const code = packet.readInt32BE(4);
  if (code === SSL_REQUEST)
    return packet.length === 8 ? { kind: 'ssl' } : { kind: 'bad', why: 'malformed SSLRequest' };
  if (code === GSSENC_REQUEST) {
    return packet.length === 8 ? { kind: 'gssenc' } : { kind: 'bad', why: 'malformed GSSENCRequest' };
  }
  if (code === CANCEL_REQUEST) {
    if (packet.length !== 16) return { kind: 'bad', why: 'malformed CancelRequest' };
    return { kind: 'cancel', pid: packet.readInt32BE(8), secret: packet.readInt32BE(12) };
  }
  const major = code >>> 16;
  const minor = code & 0xffff;
  if (major !== 3) {
    return { kind: 'bad', why: `unsupported frontend protocol ${major}.${minor}: jitgate speaks 3.0` };
  }
  const params: StartupParams = new Map();
  let at = 8;
  for (;;) {
    const keyEnd = packet.indexOf(0, at);
    if (keyEnd === -1) return { kind: 'bad', why: 'startup packet is not terminated' };
    if (keyEnd === at) break;
    const valueEnd = packet.indexOf(0, keyEnd + 1);
    if (valueEnd === -1) return { kind: 'bad', why: 'startup parameter has no value' };
    const key = packet.toString('utf8', at, keyEnd);
    if (params.has(key)) return { kind: 'bad', why: `startup parameter ${key} given twice` };
    params.set(key, packet.toString('utf8', keyEnd + 1, valueEnd));
    at = valueEnd + 1;
  }
  if (at !== packet.length - 1) return { kind: 'bad', why: 'bytes after the end of the startup packet' };
  return { kind: 'startup', minor, params };
}

/** A message of the startup packet's form, for the upstream: protocol 3.0 and these parameters. */
export function startupMessage(params: Iterable<[string, string]>): Buffer {
  const parts: Buffer[] = [int32(PROTOCOL_3_0)];
  for (const [k, v] of params) parts.push(cstring(k), cstring(v));
  parts.push(Buffer.from([0]));
  const body = Buffer.concat(parts);
  return Buffer.concat([int32(body.length + 4), body]);
}

export function cancelRequest(pid: number, secret: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32BE(16, 0);
  b.writeInt32BE(CANCEL_REQUEST, 4);
  b.writeInt32BE(pid, 8);
  b.writeInt32BE(secret, 12);
  return b;
}

/** A typed message: type byte, length, body. */
export function message(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(5 + body.length);
  b.write(type, 0, 'latin1');
  b.writeInt32BE(body.length + 4, 1);
  body.copy(b, 5);
  return b;
}

/** AuthenticationCleartextPassword: the client then sends its password (the access token). */
export const askForPassword = (): Buffer => message('R', int32(3));
export const authenticationOk = (): Buffer => message('R', int32(0));
export const readyForQuery = (status = 'I'): Buffer => message('Z', Buffer.from(status, 'latin1'));
export const backendKeyData = (pid: number, secret: number): Buffer =>
  message('K', Buffer.concat([int32(pid), int32(secret)]));
export const parameterStatus = (name: string, value: string): Buffer =>
  message('S', Buffer.concat([cstring(name), cstring(value)]));

/** NegotiateProtocolVersion: the newest minor version spoken (0) and the options not recognised. */
export function negotiateProtocolVersion(unrecognised: string[]): Buffer {
  return message('v', Buffer.concat([int32(0), int32(unrecognised.length), ...unrecognised.map(cstring)]));
}

export interface ErrorFields {
  severity: 'FATAL' | 'ERROR';
  /** SQLSTATE, five characters. */
  code: string;
  message: string;
  detail?: string | undefined;
  hint?: string | undefined;
}

/** ErrorResponse ('E'): what psql prints as `FATAL:  message` with `DETAIL:` and `HINT:` lines. */
export function errorResponse(e: ErrorFields): Buffer {
  const parts = [
    field('S', e.severity),
    field('V', e.severity),
    field('C', e.code),
    field('M', e.message),
    ...(e.detail ? [field('D', e.detail)] : []),
    ...(e.hint ? [field('H', e.hint)] : []),
    Buffer.from([0]),
  ];
  return message('E', Buffer.concat(parts));
}

/** The fields of an ErrorResponse or NoticeResponse body, by their one-letter codes. */
export function readErrorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const end = body.indexOf(0, at + 1);
    if (end === -1) break;
    fields.set(String.fromCharCode(body[at]!), body.toString('utf8', at + 1, end));
    at = end + 1;
  }
  return fields;
}

function field(code: string, value: string): Buffer {
  // NUL ends a field: a message that somehow held one would cut the rest off, so it is replaced.
  return Buffer.concat([Buffer.from(code, 'latin1'), cstring(value.replaceAll('\0', ' '))]);
}

export function cstring(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
}

export function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return b;
}

/** A message read off the wire: its type and body (the length is implied). */
export interface Message {
  type: string;
  body: Buffer;
}

/**
 * Collects bytes until whole packets can be taken: startup packets (length first) while the client
 * is starting up, typed messages after. Bounded: a declared length beyond `max` is reported as
 * oversized at once, before its bytes arrive, so nobody can make the gateway buffer megabytes.
 */
export class PacketReader {
  private chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  get buffered(): number {
    return this.size;
  }

  /** The whole startup packet (length included), undefined until it has arrived, or an error. */
  takeStartup(): Buffer | undefined | { error: string } {
    if (this.size < 4) return undefined;
    const length = this.peek(4).readInt32BE(0);
    if (length < 8) return { error: `invalid startup packet length ${length}` };
    if (length > MAX_STARTUP_LENGTH) {
      const first = this.peek(1)[0]!;
      // A typed message where the startup packet belongs: its type letter reads as a huge length.
      if (first >= 0x41 && first <= 0x7a) {
        return {
          error: `a ${JSON.stringify(String.fromCharCode(first))} message before the startup packet (a password before the server asked for one?)`,
        };
      }
      return { error: `startup packet of ${length} bytes is too long` };
    }
    if (this.size < length) return undefined;
    return this.take(length);
  }

  /** One typed message, undefined until it has arrived, or an error when its length is out of bounds. */
  takeMessage(max: number): Message | undefined | { error: string } {
    if (this.size < 5) return undefined;
    const head = this.peek(5);
    const length = head.readInt32BE(1);
    if (length < 4) return { error: `invalid message length ${length}` };
    if (length > max) return { error: `message of ${length} bytes is too long` };
    if (this.size < length + 1) return undefined;
    const whole = this.take(length + 1);
    return { type: String.fromCharCode(whole[0]!), body: whole.subarray(5) };
  }

  /** What is left over (to hand to the relay after login). */
  rest(): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = [];
    this.size = 0;
    return all;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const left = all.subarray(n);
    this.chunks = left.length > 0 ? [left] : [];
    this.size = left.length;
    return out;
  }
}
