import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { isJitgateError } from '../../shared/errors.js';
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  generateSigningKeySet,
  loadSigningKeys,
  signAccessToken,
} from '../../shared/tokens/index.js';

const ISSUER = 'https://access.example.com';

describe('fuzzing token verification', () => {
  let verifier: AccessTokenVerifier;
  let good: string;
  beforeAll(async () => {
    const keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
    verifier = createAccessTokenVerifier({ keys, issuer: ISSUER, clock: systemClock });
    good = await signAccessToken(
      keys,
      {
        issuer: ISSUER,
        grantId: `g_${'b'.repeat(26)}`,
        user: 'U0ALICE',
        email: 'a@example.com',
        resource: 'grafana',
        role: 'viewer',
        expiresAt: Date.now() + 600_000,
      },
      systemClock,
    );
  });

  const refused = async (token: string) => {
    try {
      await verifier.verify(token, 'grafana');
      return false;
    } catch (err) {
      return isJitgateError(err, 'token_invalid') || isJitgateError(err, 'token_expired');
    }
  };

  it('when the token is any string, then it is refused with a token code and nothing else', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 300 }), refused), { numRuns: 300 });
  });

  it('when three base64url segments are random, then they are refused', async () => {
    const seg = fc
      .base64String({ maxLength: 120 })
      .map((s) => s.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'));
    await fc.assert(
      fc.asyncProperty(seg, seg, seg, (a, b, c) => refused(`${a}.${b}.${c}`)),
      { numRuns: 300 },
    );
  });

  it('when one character of a valid token changes, then it is refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
        async (i, ch) => {
          const at = i % good.length;
          if (good[at] === ch || good[at] === '.') return true;
          const mutated = good.slice(0, at) + ch + good.slice(at + 1);
          // A change in the signature's final padding bits may decode to the same bytes: that token is the same token.
          const sameBytes = (s: string) =>
            s
              .split('.')
              .map((p) => Buffer.from(p, 'base64url').toString('hex'))
              .join('.');
          if (sameBytes(mutated) === sameBytes(good)) return true;
          return refused(mutated);
        },
      ),
      { numRuns: 300 },
    );
  });
});
