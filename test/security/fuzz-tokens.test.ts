import fc from 'fast-check';
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { isJitgateError } from '../../shared/errors.js';
import {
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  generateSigningKeySet,
  loadSigningKeys,
  type SigningKeys,
  signAccessToken,
} from '../../shared/tokens/index.js';
import { countFigures, fuzzRuns } from './figures.js';

countFigures('attack');

const ISSUER = 'https://access.example.com';

describe('fuzzing token verification', () => {
  let verifier: AccessTokenVerifier;
  let good: string;
  let keys: SigningKeys;
  beforeAll(async () => {
    keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
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
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 300 }), refused), { numRuns: fuzzRuns(300) });
  });

  it('when three base64url segments are random, then they are refused', async () => {
    const seg = fc
      .base64String({ maxLength: 120 })
      .map((s) => s.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'));
    await fc.assert(
      fc.asyncProperty(seg, seg, seg, (a, b, c) => refused(`${a}.${b}.${c}`)),
      { numRuns: fuzzRuns(300) },
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
      { numRuns: fuzzRuns(300) },
    );
  });
  it('when the header carries key parameters, another kid or another typ, even signed with our own key, then only the plain header verifies', async () => {
    // The parameters that bring a key, a place to fetch one, or demands (crit): never honoured.
    const name = fc.constantFrom('jku', 'jwk', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'crit');
    const value = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.boolean(),
      fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }),
      fc.constant(null),
    );
    const kid = fc.oneof(fc.constant('ours'), fc.string({ maxLength: 10 }));
    const typ = fc.constantFrom('jitgate-access+jwt', 'JWT', 'at+jwt', 'JITGATE-ACCESS+JWT', undefined);
    await fc.assert(
      fc.asyncProperty(fc.dictionary(name, value, { maxKeys: 2 }), kid, typ, async (extra, k, t) => {
        const header = {
          ...extra,
          alg: keys.signing.alg,
          kid: k === 'ours' ? keys.signing.kid : k,
          ...(t ? { typ: t } : {}),
        };
        const now = Math.floor(Date.now() / 1000);
        let token: string;
        try {
          token = await new SignJWT({ gid: `g_${'b'.repeat(26)}`, role: 'viewer', email: 'a@example.com' })
            .setProtectedHeader(header as never)
            .setIssuer(ISSUER)
            .setSubject('U0ALICE')
            .setAudience('grafana')
            .setIssuedAt(now)
            .setNotBefore(now)
            .setExpirationTime(now + 600)
            .sign(keys.signing.key);
        } catch {
          return true; // jose refused to sign such a header: nothing to verify
        }
        // Media types compare case-insensitively (RFC 7515 §4.1.9), so JITGATE-ACCESS+JWT is the same typ.
        const plain =
          Object.keys(extra).length === 0 && k === 'ours' && t?.toLowerCase() === 'jitgate-access+jwt';
        if (plain) {
          await expect(verifier.verify(token, 'grafana')).resolves.toMatchObject({ sub: 'U0ALICE' });
          return true;
        }
        return refused(token);
      }),
      { numRuns: fuzzRuns(300) },
    );
  });
});
