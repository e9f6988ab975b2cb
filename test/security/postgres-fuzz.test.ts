import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cstring, int32, message, PROTOCOL_3_0, startupMessage } from '../../authorizer/postgres/protocol.js';
import { eventually } from '../support/authorizer-harness.js';
import { type PgHarness, startPgHarness } from '../support/postgres-harness.js';

let h: PgHarness;
beforeAll(async () => {
  h = await startPgHarness({ startupTimeoutMs: 600, maxStartingPerClient: 400 });
});
afterAll(async () => {
  await h?.close();
});

/** Sends bytes (in pieces), then collects what the gateway answers until it closes the socket. */
function exchange(pieces: Buffer[], keepOpen = false): Promise<{ answer: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket: Socket = connect({ host: h.host, port: h.port }, async () => {
      for (const p of pieces) {
        if (socket.destroyed) break;
        socket.write(p);
        await new Promise((r) => setImmediate(r));
      }
      if (!keepOpen) socket.end();
    });
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => resolve({ answer: Buffer.concat(chunks), closed: true }));
  });
}

/** The answers the gateway may give before login: nothing, N or S, R (password please), v, E. */
function wellFormed(answer: Buffer): boolean {
  let at = 0;
  while (at < answer.length) {
    const t = String.fromCharCode(answer[at]!);
    if (t === 'N' || t === 'S') {
      at += 1;
      continue;
    }
    if (!'REv'.includes(t) || answer.length < at + 5) return false;
    at += 1 + answer.readInt32BE(at + 1);
  }
  return at === answer.length;
}

const startup = (params: [string, string][]) => startupMessage(params);
const arbBytes = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a));
const arbLengthPrefixed = fc
  .tuple(fc.integer({ min: -5, max: 20_000 }), fc.integer(), arbBytes)
  .map(([len, code, rest]) => Buffer.concat([int32(len), int32(code), rest]));
const arbVersion = fc
  .tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }))
  .map(([major, minor]) => {
    const b = startup([
      ['user', 'a'],
      ['database', 'app-db'],
    ]);
    b.writeInt32BE((major << 16) | minor, 4);
    return b;
  });
const arbSslThenJunk = fc
  .tuple(fc.constantFrom(80877103, 80877104), arbBytes)
  .map(([code, junk]) => Buffer.concat([int32(8), int32(code), junk]));
const arbParams = fc
  .array(fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 })), { maxLength: 6 })
  .map((pairs) =>
    startup(pairs.filter(([k]) => !k.includes('\0')).map(([k, v]) => [k, v.replaceAll('\0', '')])),
  );
const arbPasswordFirst = fc
  .tuple(fc.constantFrom('p', 'Q', 'X', 'E'), arbBytes)
  .map(([t, body]) => message(t, body));
const arbAfterStartup = fc
  .tuple(fc.constantFrom('p', 'Q', 'X', 'S', '\0'), fc.integer({ min: -10, max: 100_000 }), arbBytes)
  .map(([t, len, body]) =>
    Buffer.concat([
      startup([
        ['user', 'a'],
        ['database', 'app-db'],
      ]),
      Buffer.from(t, 'latin1'),
      int32(len),
      body,
    ]),
  );
const arbPiece = fc.oneof(
  arbBytes,
  arbLengthPrefixed,
  arbVersion,
  arbSslThenJunk,
  arbParams,
  arbPasswordFirst,
  arbAfterStartup,
);
/** A case: one or more pieces, possibly split at random points. */
const arbCase = fc
  .tuple(fc.array(arbPiece, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 64 }))
  .map(([pieces, cut]) => {
    const all = Buffer.concat(pieces);
    return cut < all.length ? [all.subarray(0, cut), all.subarray(cut)] : [all];
  });

describe('PostgreSQL gateway: any bytes before login', () => {
  it('when clients send random, truncated, oversized or out-of-order startup and auth messages, then each gets an error or a closed socket, and a real client still gets in', async () => {
    const cases = fc.sample(arbCase, { numRuns: 300, seed: 4242 });
    const before = h.upstream.connections;
    // All at once: none of them may hold up the others, nor the real client below.
    const results = Promise.all(cases.map((pieces) => exchange(pieces, true)));
    const { token } = await h.grant('app-db', 'readonly');
    const client = h.client(token);
    await client.connect();
    expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await client.end();
    for (const [i, r] of (await results).entries()) {
      expect(r.closed, `case ${i}`).toBe(true);
      expect(wellFormed(r.answer), `case ${i}: ${r.answer.toString('hex').slice(0, 80)}`).toBe(true);
      // Never let in: no AuthenticationOk (R with 0) and no ReadyForQuery.
      expect(r.answer.includes(Buffer.from('Z\0\0\0\x05'))).toBe(false);
    }
    // Only the real client's login reached the database.
    expect(h.upstream.connections - before).toBe(1);
  });

  it.each([
    [
      'a password before the challenge',
      [message('p', cstring('x'))],
      'a "p" message before the startup packet',
    ],
    [
      'an unknown protocol version',
      [
        (() => {
          const b = startup([['user', 'a']]);
          b.writeInt32BE((2 << 16) | 0, 4);
          return b;
        })(),
      ],
      'unsupported frontend protocol 2.0',
    ],
    ['an oversized startup packet', [Buffer.concat([int32(1_000_000), int32(PROTOCOL_3_0)])], 'too long'],
    [
      'an oversized password message',
      [
        startup([
          ['user', 'a'],
          ['database', 'app-db'],
        ]),
        Buffer.concat([Buffer.from('p'), int32(10_000_000)]),
      ],
      'too long',
    ],
    [
      'a second message type after the challenge',
      [
        startup([
          ['user', 'a'],
          ['database', 'app-db'],
        ]),
        message('Q', cstring('SELECT 1')),
      ],
      'expected a password message',
    ],
    [
      'data after an SSLRequest',
      [Buffer.concat([int32(8), int32(80877103), startup([['user', 'a']])])],
      'data sent after an encryption request',
    ],
    [
      'a replication connection',
      [
        startup([
          ['user', 'a'],
          ['database', 'app-db'],
          ['replication', 'true'],
        ]),
      ],
      'replication connections',
    ],
    [
      'startup options',
      [
        startup([
          ['user', 'a'],
          ['database', 'app-db'],
          ['options', '-c default_transaction_read_only=off'],
        ]),
      ],
      'startup options',
    ],
    [
      'a parameter given twice',
      [
        (() => {
          const body = Buffer.concat([
            int32(PROTOCOL_3_0),
            cstring('user'),
            cstring('a'),
            cstring('user'),
            cstring('b'),
            Buffer.from([0]),
          ]);
          return Buffer.concat([int32(body.length + 4), body]);
        })(),
      ],
      'given twice',
    ],
  ])('when a client sends %s, then it gets a protocol error naming it', async (_what, pieces, words) => {
    const { answer, closed } = await exchange(pieces as Buffer[], true);
    expect(closed).toBe(true);
    expect(answer.toString('utf8')).toContain(words);
  });

  it('when a client connects and never speaks, then it is closed after the startup deadline', async () => {
    const { answer, closed } = await exchange([], true);
    expect(closed).toBe(true);
    expect(answer.toString()).toContain('no login within');
  });

  it('when one address floods connections that never speak, then beyond its limit it is refused at once, and the count recovers', async () => {
    const flood = Array.from({ length: 420 }, () => exchange([], true));
    const results = await Promise.all(flood);
    const refused = results.filter((r) => r.answer.toString().includes('too many connections'));
    expect(refused.length).toBeGreaterThanOrEqual(20);
    await eventually(async () => {
      const { token } = await h.grant('app-db', 'readonly');
      const client = h.client(token);
      await client.connect();
      await client.end();
    });
  });
});
