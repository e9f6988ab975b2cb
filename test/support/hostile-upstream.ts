import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type Socket } from 'node:net';

/**
 * An upstream written with node:net that answers each request as its path says, in ways no HTTP
 * library would: `/<answer>` picks one of `HOSTILE_ANSWERS`. It reads the request's head only, then
 * writes raw bytes. Every connection it ever accepted is counted, and the ones still open are kept,
 * so a test can see that the authorizer let go of them.
 */
export interface HostileUpstream {
  url: string;
  /** Connections open now, upstream side. */
  open(): number;
  close(): Promise<void>;
}

/** Writes an answer to one request; `requestHead` is the request's head as received. */
type Answer = (socket: Socket, timers: Set<NodeJS.Timeout>, requestHead: string) => void;

const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

/** Writes `chunk` every `everyMs`, forever (until the socket goes). */
function drip(socket: Socket, timers: Set<NodeJS.Timeout>, chunk: string, everyMs: number): void {
  const timer = setInterval(() => {
    if (socket.destroyed) clearInterval(timer);
    else socket.write(chunk);
  }, everyMs);
  timers.add(timer);
  socket.once('close', () => {
    clearInterval(timer);
    timers.delete(timer);
  });
}

/**
 * What each hostile answer is, and what the client of that request must get: `502` (refused before
 * anything of the answer reached it), `504` (too slow), `cut` (its connection ends before a complete
 * response: the answer went wrong after its head was passed on) or a status that may be passed on.
 */
export const HOSTILE_ANSWERS: Record<string, { outcome: 502 | 504 | 'cut' | 200; answer: Answer }> = {
  // A length counted in characters: "café" is 5 bytes, the header says 4.
  'length-in-characters': {
    outcome: 502,
    answer: (s) => s.end(`${head(['HTTP/1.1 200 OK', 'Content-Type: text/plain', 'Content-Length: 4'])}café`),
  },
  // More bytes than Content-Length, and they look like a second response (response splitting). The
  // first answer is whole and valid, so its client may have it; the second must reach nobody.
  'second-response-smuggled': {
    outcome: 200,
    answer: (s) =>
      s.write(
        `${head(['HTTP/1.1 200 OK', 'Content-Length: 2'])}ok` +
          `${head(['HTTP/1.1 200 OK', 'Content-Length: 8'])}smuggled`,
      ),
  },
  'body-after-204': {
    outcome: 502,
    answer: (s) => s.write(`${head(['HTTP/1.1 204 No Content'])}surprise`),
  },
  'length-too-long-then-close': {
    outcome: 'cut',
    answer: (s) => {
      s.write(head(['HTTP/1.1 200 OK', 'Content-Length: 1000']));
      setTimeout(() => s.end('only ten b'), 20);
    },
  },
  'reset-mid-body': {
    outcome: 'cut',
    answer: (s) => {
      s.write(`${head(['HTTP/1.1 200 OK', 'Content-Length: 1000'])}some of it`);
      setTimeout(() => s.resetAndDestroy(), 50);
    },
  },
  'chunked-bad-size': {
    outcome: 502,
    answer: (s) =>
      s.write(`${head(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'])}zz\r\nhello\r\n0\r\n\r\n`),
  },
  'chunk-longer-than-its-size': {
    outcome: 502,
    answer: (s) =>
      s.write(`${head(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'])}3\r\nhello world\r\n0\r\n\r\n`),
  },
  'chunked-reset-mid-chunk': {
    outcome: 'cut',
    answer: (s) => {
      s.write(`${head(['HTTP/1.1 200 OK', 'Transfer-Encoding: chunked'])}a\r\nhello`);
      setTimeout(() => s.resetAndDestroy(), 50);
    },
  },
  'chunked-and-length': {
    outcome: 502,
    answer: (s) =>
      s.write(
        `${head(['HTTP/1.1 200 OK', 'Content-Length: 5', 'Transfer-Encoding: chunked'])}5\r\nhello\r\n0\r\n\r\n`,
      ),
  },
  'two-different-lengths': {
    outcome: 502,
    answer: (s) => s.write(`${head(['HTTP/1.1 200 OK', 'Content-Length: 5', 'Content-Length: 7'])}hello`),
  },
  'negative-length': {
    outcome: 502,
    answer: (s) => s.write(`${head(['HTTP/1.1 200 OK', 'Content-Length: -1'])}x`),
  },
  'length-overflowing-64-bits': {
    outcome: 502,
    answer: (s) => s.write(`${head(['HTTP/1.1 200 OK', 'Content-Length: 99999999999999999999999'])}x`),
  },
  'garbage-status-line': {
    outcome: 502,
    answer: (s) => s.end(`${head(['HTTQ/9.9 OK 200', 'Content-Length: 2'])}ok`),
  },
  'two-digit-status': {
    outcome: 502,
    answer: (s) => s.end(`${head(['HTTP/1.1 20 OK', 'Content-Length: 2'])}ok`),
  },
  'binary-noise': {
    outcome: 502,
    answer: (s) => s.end(Buffer.from([0, 255, 1, 254, 13, 10, 13, 10, 7, 0x80, 0xc3])),
  },
  'nul-in-a-header': {
    outcome: 502,
    answer: (s) => s.end(`${head(['HTTP/1.1 200 OK', 'X-Note: a\0b', 'Content-Length: 2'])}ok`),
  },
  'space-in-a-header-name': {
    outcome: 502,
    answer: (s) => s.end(`${head(['HTTP/1.1 200 OK', 'Bad Name: x', 'Content-Length: 2'])}ok`),
  },
  'header-of-100-kb': {
    outcome: 502,
    answer: (s) =>
      s.end(`${head(['HTTP/1.1 200 OK', `X-Big: ${'a'.repeat(100_000)}`, 'Content-Length: 2'])}ok`),
  },
  'close-before-headers': {
    outcome: 502,
    answer: (s) => s.end(),
  },
  'reset-before-headers': {
    outcome: 502,
    answer: (s) => s.resetAndDestroy(),
  },
  'half-a-status-line-then-close': {
    outcome: 502,
    answer: (s) => s.end('HTTP/1.1 2'),
  },
  '101-to-a-plain-request': {
    outcome: 502,
    answer: (s) =>
      s.write(
        `${head(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade'])}raw bytes`,
      ),
  },
  // Slow-loris answers: a header line every 300 ms, never the end of the head (the test's timeout is 1 s).
  'headers-dripped-forever': {
    outcome: 504,
    answer: (s, timers) => {
      s.write('HTTP/1.1 200 OK\r\n');
      drip(s, timers, 'X-Drip: 1\r\n', 300);
    },
  },
  'informational-answers-forever': {
    outcome: 504,
    answer: (s, timers) =>
      drip(s, timers, head(['HTTP/1.1 103 Early Hints', 'Link: </a.css>; rel=preload']), 300),
  },
  'head-then-silence': {
    outcome: 'cut',
    answer: (s) => s.write(`${head(['HTTP/1.1 200 OK', 'Content-Length: 1000'])}a little`),
  },
  silence: {
    outcome: 504,
    answer: () => {},
  },
  // An honest answer, for comparison.
  honest: {
    outcome: 200,
    answer: (s) => s.write(`${head(['HTTP/1.1 200 OK', 'Content-Length: 6'])}honest`),
  },
};

/** Answers that are not faults: a stream that never ends (the test's client is the one that goes). */
export const STREAMING_ANSWERS: Record<string, Answer> = {
  'endless-stream': (s, timers) => {
    s.write(head(['HTTP/1.1 200 OK', 'Content-Type: text/event-stream', 'Transfer-Encoding: chunked']));
    drip(s, timers, '8\r\ndata: 1\n\r\n', 50);
  },
  // An upgrade that stays open and silent.
  'upgrade-then-silence': (s, _timers, requestHead) => s.write(switching(requestHead)),
};

/** A real 101 for the upgrade in `requestHead` (the accept for its key). */
function switching(requestHead: string): string {
  const key = /^sec-websocket-key:\s*(\S+)/im.exec(requestHead)?.[1] ?? '';
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  return head([
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${accept}`,
  ]);
}

/**
 * Upgrades that go wrong at the upstream, and what the client of each must get: `502`/`504` (no
 * 101 ever reaches it) or `cut` (it got the 101, then its connection ends).
 */
export const UPGRADE_ANSWERS: Record<string, { outcome: 502 | 504 | 'cut'; answer: Answer }> = {
  'upgrade-reset-before-answer': { outcome: 502, answer: (s) => s.resetAndDestroy() },
  'upgrade-half-a-101': { outcome: 502, answer: (s) => s.end('HTTP/1.1 101 Switch') },
  'upgrade-101-dripped': {
    outcome: 504,
    answer: (s, timers) => {
      s.write('HTTP/1.1 101 Switching Protocols\r\n');
      drip(s, timers, 'X-Drip: 1\r\n', 300);
    },
  },
  'upgrade-then-reset': {
    outcome: 'cut',
    answer: (s, _timers, requestHead) => {
      s.write(switching(requestHead));
      setTimeout(() => s.resetAndDestroy(), 50);
    },
  },
  'upgrade-then-garbage-and-close': {
    outcome: 'cut',
    answer: (s, _timers, requestHead) => {
      s.write(switching(requestHead));
      setTimeout(() => s.end(Buffer.from([0xff, 0x00, 0x81, 0x7f, 0x0d, 0x0a])), 50);
    },
  },
};

export async function startHostileUpstream(): Promise<HostileUpstream> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    // Request after request on one connection (keep-alive), each head answered as its path says;
    // bodies are not expected (the tests send GETs).
    let received = '';
    const onData = (chunk: Buffer) => {
      received += chunk.toString('latin1');
      for (let end = received.indexOf('\r\n\r\n'); end !== -1; end = received.indexOf('\r\n\r\n')) {
        const requestHead = received.slice(0, end);
        const requestLine = received.slice(0, received.indexOf('\r\n'));
        received = received.slice(end + 4);
        const path = requestLine.split(' ')[1] ?? '/';
        const name = path.slice(1).split(/[/?]/)[0] ?? '';
        const answer =
          HOSTILE_ANSWERS[name]?.answer ?? STREAMING_ANSWERS[name] ?? UPGRADE_ANSWERS[name]?.answer;
        if (answer) answer(socket, timers, requestHead);
        else socket.end(head(['HTTP/1.1 404 Not Found', 'Content-Length: 0']));
      }
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    open: () => sockets.size,
    async close() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
