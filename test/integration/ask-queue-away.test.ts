import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AskFormServer, startAskFormServer } from '../support/ask-form-server.js';
import { type TestRedis, testRedis } from '../support/redis.js';

describe('the request form when its job cannot be queued (real Redis)', () => {
  let t: TestRedis;
  let form: AskFormServer;
  let queueUp = false;
  const queued: unknown[] = [];

  beforeAll(async () => {
    t = await testRedis();
    form = await startAskFormServer({
      redis: t.redis,
      prefix: t.prefix,
      askFiled: async (ask) => {
        if (!queueUp) throw new Error('the queue cannot be reached');
        queued.push(ask);
      },
    });
  });
  afterAll(async () => {
    await form.close();
    await t.cleanup();
  });

  it('when the job is not queued, then the post answers 503, and the next visit offers the form again instead of a wait that never ends', async () => {
    const failed = await form.post();
    expect(failed.status).toBe(503);
    expect(await failed.text()).toContain('nothing was sent');
    const page = await fetch(`${form.base}/grafana/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(403);
    const html = await page.text();
    expect(html).toContain('<form');
    expect(html).not.toContain('Sending your request');

    queueUp = true;
    const sent = await form.post();
    expect(sent.status).toBeLessThan(400);
    expect(queued).toHaveLength(1);
  });
});
