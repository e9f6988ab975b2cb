import { readFile } from 'node:fs/promises';
import { connect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { PostgresTarget } from '../../shared/policy/index.js';
import {
  cstring,
  int32,
  type Message,
  message,
  PacketReader,
  readErrorFields,
  startupMessage,
} from './protocol.js';
import { md5Password, scramClient } from './scram.js';

/** A session logged in upstream: its socket, its cancel key, and what it said before ReadyForQuery. */
export interface UpstreamSession {
  socket: Socket;
  pid: number;
  secret: number;
  /** ParameterStatus and NoticeResponse messages, passed on to the client as they came. */
  greeting: Buffer[];
  /** The transaction status of its first ReadyForQuery. */
  status: string;
  /** Bytes that came after ReadyForQuery (none, normally). */
  rest: Buffer;
}

/** Why the upstream login failed: a code for the log and the refusal, the server's words when it gave some. */
export class UpstreamLoginError extends Error {
  override readonly name = 'UpstreamLoginError';
  constructor(
    message: string,
    readonly sqlstate?: string | undefined,
  ) {
    super(message);
  }
}

const MAX_UPSTREAM_MESSAGE = 1 << 20;

/**
 * Opens a connection to the database and logs in as `user` with whatever the server asks for:
 * SCRAM-SHA-256, md5 or the cleartext password (or nothing, for trust). Resolves once the server is
 * ready for queries; rejects with an UpstreamLoginError (and closes the socket) otherwise.
 *
 * @example const up = await loginUpstream(target, { user: 'jit_readonly', password, params }, 10_000);
 */
export async function loginUpstream(
  target: PostgresTarget,
  login: { user: string; password: string | undefined; params: [string, string][] },
  timeoutMs: number,
): Promise<UpstreamSession> {
  const until = Date.now() + timeoutMs;
  const socket = await openUpstream(target, timeoutMs);
  return logIn(socket, target, login, Math.max(1, until - Date.now()));
}

/**
 * A connected socket to the database: plain TCP, or, when the upstream URL says `sslmode=require`
 * or `verify-full`, TLS after PostgreSQL's SSLRequest (a server that answers 'N' is refused: the
 * policy asked for TLS). verify-full checks the certificate against the host name and the CA file
 * (`sslrootcert`) or the system's CAs; require encrypts without checking, as libpq's require does.
 */
async function openUpstream(target: PostgresTarget, timeoutMs: number): Promise<Socket> {
  const ca = target.tls?.caFile
    ? await readFile(target.tls.caFile, 'utf8').catch(() => {
        throw new UpstreamLoginError(`cannot read the database's CA file ${target.tls?.caFile}`);
      })
    : undefined;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => fail('the database did not answer in time'), timeoutMs);
    timer.unref();
    function fail(why: string) {
      clearTimeout(timer);
      socket.destroy();
      reject(new UpstreamLoginError(why));
    }
    socket.once('error', (err) =>
      fail(`cannot reach the database (${(err as NodeJS.ErrnoException).code ?? err.message})`),
    );
    socket.once('connect', () => {
      if (!target.tls) {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
        return;
      }
      socket.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]));
      socket.once('data', (answer: Buffer) => {
        if (answer[0] !== 0x53 || answer.length !== 1)
          return fail('the database does not offer TLS, and the policy asks for it (sslmode)');
        const tls = tlsConnect({
          socket,
          host: target.host,
          servername: isIP(target.host) ? undefined : target.host,
          rejectUnauthorized: target.tls?.verify === true,
          ...(ca ? { ca } : {}),
        });
        tls.once('secureConnect', () => {
          clearTimeout(timer);
          socket.removeAllListeners('error');
          tls.removeAllListeners('error');
          tls.setNoDelay(true);
          resolve(tls);
        });
        tls.once('error', (err) =>
          fail(`TLS to the database failed (${(err as NodeJS.ErrnoException).code ?? err.message})`),
        );
      });
    });
  });
}

function logIn(
  socket: Socket,
  target: PostgresTarget,
  login: { user: string; password: string | undefined; params: [string, string][] },
  timeoutMs: number,
): Promise<UpstreamSession> {
  return new Promise((resolve, reject) => {
    const reader = new PacketReader();
    const greeting: Buffer[] = [];
    let pid = 0;
    let secret = 0;
    let scram: ReturnType<typeof scramClient> | undefined;
    let settled = false;

    const fail = (err: UpstreamLoginError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new UpstreamLoginError('the database did not answer in time')),
      timeoutMs,
    );
    timer.unref();

    socket.on('error', (err) =>
      fail(
        new UpstreamLoginError(
          `cannot reach the database (${(err as NodeJS.ErrnoException).code ?? err.message})`,
        ),
      ),
    );
    socket.on('close', () => fail(new UpstreamLoginError('the database closed the connection during login')));
    socket.write(startupMessage([['user', login.user], ['database', target.database], ...login.params]));

    const password = (): string => {
      if (login.password === undefined) {
        throw new UpstreamLoginError(
          `the database asks for a password for ${login.user}, and the policy gives none`,
        );
      }
      return login.password;
    };

    const handle = (m: Message): boolean => {
      switch (m.type) {
        case 'R':
          answerAuthentication(m.body);
          return false;
        case 'S':
        case 'N':
          greeting.push(message(m.type, m.body));
          return false;
        case 'K':
          pid = m.body.readInt32BE(0);
          secret = m.body.readInt32BE(4);
          return false;
        case 'Z':
          return true;
        case 'E': {
          const fields = readErrorFields(m.body);
          throw new UpstreamLoginError(
            `the database refused the login: ${fields.get('M') ?? '?'}`,
            fields.get('C'),
          );
        }
        case 'v':
          return false;
        default:
          throw new UpstreamLoginError(`unexpected message ${JSON.stringify(m.type)} during login`);
      }
    };

    const answerAuthentication = (body: Buffer) => {
      const kind = body.readInt32BE(0);
      switch (kind) {
        case 0:
          return;
        case 3:
          socket.write(message('p', cstring(password())));
          return;
        case 5:
          socket.write(message('p', cstring(md5Password(login.user, password(), body.subarray(4, 8)))));
          return;
        case 10: {
          const mechanisms = body.subarray(4).toString('utf8').split('\0');
          if (!mechanisms.includes('SCRAM-SHA-256')) {
            throw new UpstreamLoginError(
              `the database offers no SASL mechanism jitgate speaks (${mechanisms.filter(Boolean).join(', ')})`,
            );
          }
          scram = scramClient(password());
          const first = Buffer.from(scram.first(), 'utf8');
          socket.write(message('p', Buffer.concat([cstring(scram.mechanism), int32(first.length), first])));
          return;
        }
        case 11:
          if (!scram) throw new UpstreamLoginError('SASL continue before SASL started');
          socket.write(message('p', Buffer.from(scram.final(body.subarray(4).toString('utf8')), 'utf8')));
          return;
        case 12:
          if (!scram) throw new UpstreamLoginError('SASL final before SASL started');
          scram.verify(body.subarray(4).toString('utf8'));
          return;
        default:
          throw new UpstreamLoginError(
            `the database asks for an authentication method jitgate does not speak (${kind})`,
          );
      }
    };

    const onData = (chunk: Buffer) => {
      reader.push(chunk);
      try {
        for (;;) {
          const m = reader.takeMessage(MAX_UPSTREAM_MESSAGE);
          if (m === undefined) return;
          if ('error' in m) throw new UpstreamLoginError(m.error);
          if (handle(m)) {
            settled = true;
            clearTimeout(timer);
            socket.off('data', onData);
            socket.removeAllListeners('close');
            socket.removeAllListeners('error');
            socket.on('error', () => {});
            resolve({
              socket,
              pid,
              secret,
              greeting,
              status: m.body.toString('latin1'),
              rest: reader.rest(),
            });
            return;
          }
        }
      } catch (err) {
        fail(err instanceof UpstreamLoginError ? err : new UpstreamLoginError((err as Error).message));
      }
    };
    socket.on('data', onData);
  });
}
