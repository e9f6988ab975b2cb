import { beforeAll, describe, expect, it } from 'vitest';
import { decryptOnly, encryptOnly, seal, unseal } from '../../authorizer/identity/seal.js';
import type { Clock } from '../../shared/clock.js';
import { generateSigningKeySet, loadSigningKeys, type SigningKeys } from '../../shared/tokens/index.js';

const ISSUER = 'http://access.test';
const now = Date.parse('2030-01-15T12:00:00Z');
const clock: Clock = { now: () => now };
const inAnHour = Math.floor(now / 1000) + 3600;
let keys: SigningKeys;
let stranger: SigningKeys;

beforeAll(async () => {
  keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
  stranger = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
});

describe('sealed values', () => {
  it('when a value is sealed or encrypted for a purpose, then it opens for that purpose only', async () => {
    const sealed = await seal(
      keys,
      'session',
      { sid: 's' },
      { issuer: ISSUER, expiresAtSec: inAnHour },
      clock,
    );
    const encrypted = await encryptOnly(
      keys,
      'login',
      { st: 'x' },
      { issuer: ISSUER, expiresAtSec: inAnHour },
    );
    expect(await unseal(keys, 'session', sealed, { issuer: ISSUER }, clock)).toMatchObject({
      ok: true,
      claims: { sid: 's' },
    });
    expect(await decryptOnly(keys, 'login', encrypted, { issuer: ISSUER }, clock)).toMatchObject({
      ok: true,
      claims: { st: 'x' },
    });
    expect(await unseal(keys, 'handoff', sealed, { issuer: ISSUER }, clock)).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(await decryptOnly(keys, 'session', encrypted, { issuer: ISSUER }, clock)).toEqual({
      ok: false,
      reason: 'invalid',
    });
  });

  it('when a value was made with a key outside the set, then it is refused as invalid, by both kinds', async () => {
    const sealed = await seal(stranger, 'session', {}, { issuer: ISSUER, expiresAtSec: inAnHour }, clock);
    const encrypted = await encryptOnly(stranger, 'login', {}, { issuer: ISSUER, expiresAtSec: inAnHour });
    expect(await unseal(keys, 'session', sealed, { issuer: ISSUER }, clock)).toEqual({
      ok: false,
      reason: 'invalid',
    });
    expect(await decryptOnly(keys, 'login', encrypted, { issuer: ISSUER }, clock)).toEqual({
      ok: false,
      reason: 'invalid',
    });
  });

  it('when a value has expired, then both kinds say expired; when it is too long or not five parts, malformed', async () => {
    const past = Math.floor(now / 1000) - 60;
    const sealed = await seal(
      keys,
      'session',
      {},
      { issuer: ISSUER, expiresAtSec: past, issuedAtSec: past - 60 },
      clock,
    );
    const encrypted = await encryptOnly(keys, 'login', {}, { issuer: ISSUER, expiresAtSec: past });
    expect(await unseal(keys, 'session', sealed, { issuer: ISSUER }, clock)).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(await decryptOnly(keys, 'login', encrypted, { issuer: ISSUER }, clock)).toEqual({
      ok: false,
      reason: 'expired',
    });
    for (const bad of ['a.b.c', `${'a'.repeat(4096)}.b.c.d.e`]) {
      expect(await unseal(keys, 'session', bad, { issuer: ISSUER }, clock)).toEqual({
        ok: false,
        reason: 'malformed',
      });
      expect(await decryptOnly(keys, 'login', bad, { issuer: ISSUER }, clock)).toEqual({
        ok: false,
        reason: 'malformed',
      });
    }
  });
});
