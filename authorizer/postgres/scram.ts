import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The client side of the logins a PostgreSQL server may ask for: SCRAM-SHA-256 (RFC 5802 and
 * 7677, without channel binding), md5, and the cleartext password. Only node:crypto.
 */

/** `md5` + md5hex(md5hex(password + user) + salt), as PostgreSQL's md5 method expects. */
export function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5')
    .update(password + user)
    .digest('hex');
  return `md5${createHash('md5').update(inner).update(salt).digest('hex')}`;
}

/** Keys derived from one password, salt and iteration count: PBKDF2 runs once per server verifier, not per login. */
interface DerivedKeys {
  clientKey: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}
const derived = new Map<string, DerivedKeys>();
const MAX_DERIVED = 64;

function derive(password: string, salt: Buffer, iterations: number): DerivedKeys {
  const id = `${iterations}:${salt.toString('base64')}:${createHash('sha256').update(password).digest('base64')}`;
  const found = derived.get(id);
  if (found) return found;
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  const keys = {
    clientKey,
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: hmac(salted, 'Server Key'),
  };
  if (derived.size >= MAX_DERIVED) derived.delete(derived.keys().next().value!);
  derived.set(id, keys);
  return keys;
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/**
 * One SCRAM-SHA-256 exchange. `first()` is the client-first-message; `final(serverFirst)` answers
 * the server's challenge (throws when it is malformed, its nonce does not extend ours, or the
 * iteration count is absurd); `verify(serverFinal)` checks the server's signature, so that a server
 * that does not know the password cannot pretend it accepted it.
 */
export function scramClient(
  password: string,
  nonce = randomBytes(18).toString('base64'),
  // PostgreSQL takes the user from the startup message and ignores this one (libpq sends it empty).
  user = '',
) {
  const clientFirstBare = `n=${user},r=${nonce}`;
  let expectedSignature: Buffer | undefined;
  return {
    mechanism: 'SCRAM-SHA-256',
    first(): string {
      return `n,,${clientFirstBare}`;
    },
    final(serverFirst: string): string {
      const attrs = attributes(serverFirst);
      const serverNonce = attrs.get('r');
      const salt = attrs.get('s');
      const iterations = Number(attrs.get('i'));
      if (!serverNonce?.startsWith(nonce) || serverNonce.length === nonce.length) {
        throw new Error('SCRAM: the server nonce does not extend ours');
      }
      if (!salt) throw new Error('SCRAM: the server sent no salt');
      if (!Number.isInteger(iterations) || iterations < 1 || iterations > 1_000_000) {
        throw new Error('SCRAM: the iteration count is out of range');
      }
      const keys = derive(password, Buffer.from(salt, 'base64'), iterations);
      const withoutProof = `c=biws,r=${serverNonce}`;
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
      const signature = createHmac('sha256', keys.storedKey).update(authMessage).digest();
      const proof = Buffer.alloc(32);
      for (let i = 0; i < 32; i += 1) proof[i] = keys.clientKey[i]! ^ signature[i]!;
      expectedSignature = createHmac('sha256', keys.serverKey).update(authMessage).digest();
      return `${withoutProof},p=${proof.toString('base64')}`;
    },
    verify(serverFinal: string): void {
      const v = attributes(serverFinal).get('v');
      const got = v ? Buffer.from(v, 'base64') : Buffer.alloc(0);
      if (!expectedSignature || got.length !== 32 || !timingSafeEqual(got, expectedSignature)) {
        throw new Error('SCRAM: the server signature does not verify');
      }
    },
  };
}

function attributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part[0]!, part.slice(2));
  }
  return out;
}
