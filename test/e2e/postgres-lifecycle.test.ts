import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRequest } from '../../authorizer/postgres/protocol.js';
import { eventually } from '../support/authorizer-harness.js';
import { superuser } from '../support/postgres.js';
import { type PgHarness, pgAuditEvents, startPgHarness } from '../support/postgres-harness.js';

let h: PgHarness;
beforeAll(async () => {
  h = await startPgHarness();
});
afterAll(async () => {
  await h?.close();
});

/** Backends on the machine's server running a statement with this marker in it. */
async function running(marker: string): Promise<number> {
  const rows = await superuser<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%${marker}%' AND pid <> pg_backend_pid()`,
  );
  return rows[0]!.n;
}

describe('PostgreSQL gateway: access ends when the grant ends', () => {
  it('when the grant is revoked mid-query, then the session gets a FATAL naming who revoked it and the query stops upstream', async () => {
    const { token, grantId } = await h.grant('app-db', 'readwrite');
    const client = h.client(token);
    client.on('error', () => {});
    await client.connect();
    const marker = `revoke_${grantId.slice(-8)}`;
    // Its failure is caught at once: the FATAL can arrive before the revoke's own answer does.
    const query = settled(client.query(`SELECT pg_sleep(30), '${marker}'`));
    await eventually(async () => expect(await running(marker)).toBe(1));
    await h.store.transitions.revoke(grantId, 'U0BOSS' as never, 'incident over');
    expect((await query).error?.message).toContain(`jitgate: your grant ${grantId} was revoked by U0BOSS`);
    await eventually(async () => expect(await running(marker)).toBe(0));
    await eventually(async () => {
      const ended = (await pgAuditEvents(h)).find(
        (e) => e.type === 'db.session.ended' && e.grantId === grantId,
      );
      expect(ended).toMatchObject({ endedBy: 'revoked' });
    });
  });

  it('when a 3-second grant runs out with no worker running, then its session is ended on time, idle or not', async () => {
    const { token, grantId, expiresAt } = await h.grant('app-db', 'readonly', { durationMs: 3_000 });
    const idle = h.client(token);
    const busy = h.client(token);
    for (const c of [idle, busy]) c.on('error', () => {});
    await Promise.all([idle.connect(), busy.connect()]);
    const idleEnded = new Promise<Error>((resolve) => idle.on('error', resolve));
    await expect(busy.query('SELECT pg_sleep(20)')).rejects.toThrow(
      `jitgate: your grant ${grantId} has expired`,
    );
    // Ended at the expiry (the timer's own), not at the query's end.
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 50);
    expect((await idleEnded).message).toContain('has expired');
  });

  it('when the client sends a CancelRequest with the key it was given, then its running query is cancelled', async () => {
    const { token } = await h.grant('app-db', 'readwrite');
    const client = h.client(token);
    await client.connect();
    const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
    const query = settled(client.query('SELECT pg_sleep(20)'));
    await new Promise((r) => setTimeout(r, 200));
    // A wrong key cancels nothing.
    await sendCancel(processID, secretKey + 1);
    await sendCancel(processID, secretKey);
    expect((await query).error).toMatchObject({ code: '57014' });
    // The session lives on.
    expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    await client.end();
  });

  it('when a cancel key is not one the gateway gave, then nothing is cancelled', async () => {
    const { token } = await h.grant('app-db', 'readwrite');
    const client = h.client(token);
    await client.connect();
    const { processID } = client as unknown as { processID: number };
    await sendCancel(processID + 1, 42);
    await sendCancel(processID, 42);
    const { rows } = await client.query('SELECT pg_sleep(0.3), 1 AS one');
    expect(rows[0].one).toBe(1);
    await client.end();
  });
});

function sendCancel(pid: number, secret: number): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: h.host, port: h.port }, () => s.end(cancelRequest(pid, secret)));
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
}

/** A promise's outcome, its rejection handled from the start (so that an early one is never unhandled). */
function settled(p: Promise<unknown>): Promise<{ error?: Error & { code?: string } }> {
  return p.then(
    () => ({}),
    (error: Error) => ({ error }),
  );
}
