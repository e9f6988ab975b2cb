import { guard } from '../grants/guard.js';
import { readScript } from '../grants/lua/load.js';
import type { RedisClient } from '../redis/connect.js';
import type { RedisKeys } from '../redis/keys.js';
import { Ask, type Asker, askerHash } from './ask.js';

const SWAP = readScript('swap-ask', new URL('./', import.meta.url));

/** An ask as read, with the exact text it was read as (what a replacement must still find there). */
export interface ReadAsk {
  ask: Ask | undefined;
  raw: string;
}

/**
 * The asks in Redis: one per (person, resource), one key each, replaced only by compare-and-swap
 * (`swap-ask.lua`), so that two submits at once file one request. Every Redis failure is
 * `unavailable` (fail closed).
 *
 * @example
 *   const asks = new AskStore(redis, keys);
 *   const { ask, raw } = await asks.read(asker, 'grafana');
 *   if (!live(ask)) await asks.replace(raw, next, ttlMs);
 */
export class AskStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  /** The person's ask on a resource; an unreadable value counts as none (it is replaced). */
  async read(asker: Asker, resource: string): Promise<ReadAsk> {
    const raw = (await guard(() => this.redis.get(this.key(asker, resource)))) ?? '';
    if (raw === '') return { ask: undefined, raw };
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return { ask: undefined, raw };
    }
    const ask = Ask.safeParse(parsed);
    return { ask: ask.success ? ask.data : undefined, raw };
  }

  /** Puts `ask` in place of what was read as `raw` ('' for none), to live `ttlMs`; false if it changed meanwhile. */
  async replace(raw: string, ask: Ask, ttlMs: number): Promise<boolean> {
    return this.swap(ask.asker, ask.resource, raw, JSON.stringify(ask), String(Math.ceil(ttlMs)));
  }

  /** Updates the ask read as `raw` in place (its expiry kept); false if it changed or ended meanwhile. */
  async note(raw: string, ask: Ask): Promise<boolean> {
    return this.swap(ask.asker, ask.resource, raw, JSON.stringify(ask), '');
  }

  private async swap(
    asker: Asker,
    resource: string,
    raw: string,
    next: string,
    ttl: string,
  ): Promise<boolean> {
    const key = this.key(asker, resource);
    const replaced = await guard(() => this.redis.eval(SWAP, 1, key, raw, next, ttl));
    return replaced === 1;
  }

  private key(asker: Asker, resource: string): string {
    return this.keys.ask(askerHash(asker), resource);
  }
}
