import { describe, expect, it } from 'vitest';
import { refusalMessage, sqlstateFor } from '../../authorizer/postgres/errors.js';
import {
  errorResponse,
  message,
  PacketReader,
  parseStartup,
  readErrorFields,
  startupMessage,
} from '../../authorizer/postgres/protocol.js';
import { FrameTracker } from '../../authorizer/postgres/relay.js';
import { md5Password, scramClient } from '../../authorizer/postgres/scram.js';
import { refusal } from '../../authorizer/refusals.js';

describe('SCRAM-SHA-256 client', () => {
  it('when run against the exchange of RFC 7677, then it sends its proof and accepts the server signature', () => {
    const scram = scramClient('pencil', 'rOprNGfwEbeRWgbNEkqO', 'user');
    expect(scram.first()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const serverFirst =
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
    expect(scram.final(serverFirst)).toBe(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    );
    expect(() => scram.verify('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).not.toThrow();
  });

  it.each([
    ['a nonce that does not extend ours', 'r=other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'],
    ['a nonce equal to ours', 'r=abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'],
    ['no salt', 'r=abcdef,i=4096'],
    ['an absurd iteration count', 'r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=999999999'],
  ])('when the server sends %s, then the exchange stops', (_what, serverFirst) => {
    expect(() => scramClient('pw', 'abc').final(serverFirst)).toThrow(/SCRAM/);
  });

  it('when the server signature is wrong or missing, then the login is not trusted', () => {
    const scram = scramClient('pencil', 'rOprNGfwEbeRWgbNEkqO', 'user');
    scram.final('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    expect(() => scram.verify('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toThrow(/signature/);
    expect(() => scram.verify('e=other-error')).toThrow(/signature/);
  });

  it('when md5 is asked for, then the answer is md5(md5(password + user) + salt)', () => {
    // Computed by PostgreSQL: SELECT 'md5' || md5(convert_to(md5('secretalice'), 'UTF8') || '\x01020304'::bytea)
    expect(md5Password('alice', 'secret', Buffer.from([1, 2, 3, 4]))).toBe(
      'md598a0412b9c31436fc53776e863350083',
    );
    expect(md5Password('alice', 'secret', Buffer.from([1, 2, 3, 4]))).not.toBe(
      md5Password('alice', 'secret', Buffer.from([1, 2, 3, 5])),
    );
  });
});

describe('startup packets and messages', () => {
  it('when a startup message is read back, then its parameters come out in order', () => {
    const parsed = parseStartup(
      startupMessage([
        ['user', 'alice'],
        ['database', 'app-db'],
        ['application_name', 'psql'],
      ]),
    );
    expect(parsed).toEqual({
      kind: 'startup',
      minor: 0,
      params: new Map([
        ['user', 'alice'],
        ['database', 'app-db'],
        ['application_name', 'psql'],
      ]),
    });
  });

  it.each([
    ['too short', Buffer.from([0, 0, 0, 4])],
    [
      'an unterminated parameter',
      Buffer.concat([Buffer.from([0, 0, 0, 12, 0, 3, 0, 0]), Buffer.from('user')]),
    ],
    ['a key without a value', Buffer.concat([Buffer.from([0, 0, 0, 13, 0, 3, 0, 0]), Buffer.from('user\0')])],
    ['protocol 2', Buffer.from([0, 0, 0, 9, 0, 2, 0, 0, 0])],
    ['a long SSLRequest', Buffer.from([0, 0, 0, 12, 0x04, 0xd2, 0x16, 0x2f, 0, 0, 0, 0])],
  ])('when a startup packet is %s, then it is bad, not thrown', (_what, packet) => {
    expect(parseStartup(packet).kind).toBe('bad');
  });

  it('when a message arrives a byte at a time, then the reader hands it over whole, once', () => {
    const reader = new PacketReader();
    const m = message('p', Buffer.from('token\0'));
    for (const byte of m.subarray(0, -1)) {
      reader.push(Buffer.from([byte]));
      expect(reader.takeMessage(100)).toBeUndefined();
    }
    reader.push(m.subarray(-1));
    expect(reader.takeMessage(100)).toEqual({ type: 'p', body: Buffer.from('token\0') });
  });

  it('when a declared length is beyond the limit, then the reader says so before the bytes arrive', () => {
    const reader = new PacketReader();
    reader.push(Buffer.from([0x70, 0, 1, 0, 0]));
    expect(reader.takeMessage(8192)).toEqual({ error: 'message of 65536 bytes is too long' });
  });

  it('when the server stream is split anywhere, then the tracker knows the boundaries and hands over whole statements', () => {
    const seen: string[] = [];
    const t = new FrameTracker(new Set(['Q'.charCodeAt(0)]), 5, (_type, body) => seen.push(body.toString()));
    const stream = Buffer.concat([
      message('Q', Buffer.from('SELECT 1\0')),
      message('S', Buffer.from('ab')),
      message('Q', Buffer.from('x\0')),
    ]);
    for (let i = 0; i < stream.length; i += 3) {
      t.feed(stream.subarray(i, i + 3));
    }
    expect(t.atBoundary).toBe(true);
    expect(seen).toEqual(['SELEC', 'x\0']);
    t.feed(stream.subarray(0, 7));
    expect(t.atBoundary).toBe(false);
  });
});

describe('refusals as ErrorResponses', () => {
  it('when a refusal is written, then psql sees FATAL, the SQLSTATE, the jitgate code first and the hint', () => {
    const bytes = refusalMessage(refusal('token_expired'));
    expect(String.fromCharCode(bytes[0]!)).toBe('E');
    const fields = readErrorFields(bytes.subarray(5));
    expect(fields.get('S')).toBe('FATAL');
    expect(fields.get('C')).toBe('28P01');
    expect(fields.get('M')).toMatch(/^jitgate token_expired: /);
    expect(fields.get('H')).toBe('/access resources');
  });

  it('when a message holds a NUL, then it cannot end its field early', () => {
    const fields = readErrorFields(
      errorResponse({ severity: 'FATAL', code: 'XX000', message: 'a\0b', hint: 'h' }).subarray(5),
    );
    expect(fields.get('M')).toBe('a b');
    expect(fields.get('H')).toBe('h');
  });

  it('when codes are mapped, then unknown ones are internal errors', () => {
    expect(sqlstateFor('no_such_resource')).toBe('3D000');
    expect(sqlstateFor('network_not_allowed')).toBe('28000');
    expect(sqlstateFor('internal_error')).toBe('XX000');
  });
});
