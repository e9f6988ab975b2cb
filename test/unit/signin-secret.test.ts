import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSecret } from '../../authorizer/identity/index.js';

describe('JITGATE_OIDC_CLIENT_SECRET', () => {
  it('when it is the secret itself, then it is used as it is', () => {
    expect(readSecret('8f3a0c1d2e')).toBe('8f3a0c1d2e');
  });

  it('when it is the path of a file, then the file holds the secret (surrounding whitespace dropped)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'jitgate-secret-')), 'client-secret');
    writeFileSync(file, 'from-a-file\n');
    expect(readSecret(file)).toBe('from-a-file');
  });

  it('when the file cannot be read or is empty, then start-up stops with the path named and no secret shown', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-secret-'));
    writeFileSync(join(dir, 'empty'), '  \n');
    for (const path of [join(dir, 'missing'), join(dir, 'empty')]) {
      expect(() => readSecret(path)).toThrow(
        /JITGATE_OIDC_CLIENT_SECRET names a file that cannot be read or is empty/,
      );
    }
  });
});
