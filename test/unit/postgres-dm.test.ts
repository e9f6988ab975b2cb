import { describe, expect, it } from 'vitest';
import { databaseGrantedDm } from '../../bot/views/database-dm.js';
import type { AccessRequest } from '../../shared/grants/records.js';

const request = {
  id: 'r_1',
  kind: 'access',
  status: 'approved',
  requester: 'U0ALICE',
  resource: 'prod-db',
  role: 'readonly',
  durationMs: 3_600_000,
  expiresAt: Date.parse('2026-12-06T19:00:00Z'),
  grantId: 'g_1',
} as unknown as AccessRequest;
const LINK = 'https://access.example.com/_jitgate/redeem?code=abc';

describe('the DM for a database grant', () => {
  it('when access is granted, then it gives the psql command with the link, the manual way, and no browser button', () => {
    const dm = databaseGrantedDm(request, LINK, false);
    const text = JSON.stringify(dm.blocks);
    expect(text).toContain(`npm run psql -- '${LINK}'`);
    expect(text).toContain('PGPASSWORD');
    expect(text).not.toContain('"type":"button"');
    expect(dm.unfurl_links).toBe(false);
    expect(dm.text).toContain('the database prod-db/readonly');
  });

  it('when sign-in is on, then it sends the holder to open the command-line link signed in', () => {
    const text = JSON.stringify(databaseGrantedDm(request, LINK, true).blocks);
    expect(text).toContain('for=command-line');
    expect(text).toContain('signed in as yourself');
    expect(text).not.toContain('npm run psql');
  });
});
