import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../../shared/redis/connect.js';
import { type AskFormServer, startAskFormServer } from '../support/ask-form-server.js';

describe('the request form with Redis away (fail closed)', () => {
  // Nothing listens on port 1: every command fails at once, as with Redis down.
  const redis = connectRedis('redis://127.0.0.1:1', { retryStrategy: () => null });
  redis.on('error', () => {});
  const queued: unknown[] = [];
  let form: AskFormServer;

  beforeAll(async () => {
    form = await startAskFormServer({
      redis,
      prefix: 'away',
      askFiled: async (ask) => void queued.push(ask),
    });
  });
  afterAll(async () => {
    redis.disconnect();
    await form.close();
  });

  it('when the form is posted, then it answers 503 and nothing is queued', async () => {
    const res = await form.post();
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('nothing was sent');
    expect(queued).toEqual([]);
  });

  it('when the status is asked for, then it answers 503 JSON', async () => {
    const res = await fetch(
      `${form.base}/_jitgate/ask/status?resource=grafana&id=r_aaaaaaaaaaaaaaaaaaaaaaaaaa`,
    );
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'unavailable' });
  });

  it('when a refused page would offer the form, then the refusal is answered as before instead (no form without Redis)', async () => {
    const res = await fetch(`${form.base}/grafana/`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(418);
  });
});
