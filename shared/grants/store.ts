import type { Clock } from '../clock.js';
import { grantIdOf, requestIdOf } from '../ids.js';
import type { RedisClient } from '../redis/connect.js';
import { type RedisKeys, redisKeys } from '../redis/keys.js';
import type { AuditSink, ScriptContext } from './lua/run.js';
import { GrantQueries } from './queries.js';
import { RedeemCodes } from './redeem-codes.js';
import { Transitions } from './transitions.js';

export type { AuditSink } from './lua/run.js';
export type { Decided, Decision } from './lua/scripts.js';
export type { GrantHolder, PersonAccess, PersonGrant } from './person-grants.js';
export type { NewRequest } from './transitions.js';
export { grantIdOf, requestIdOf };

/**
 * Requests and grants in Redis, by concern, over one connection: `transitions` (every state change,
 * one Lua script each, audited in the same step, answering the record it changed), `queries` (reads;
 * `liveGrant` is the authorizer's hot path) and `codes` (one-time redeem codes). Redis errors
 * surface as `unavailable`. The store only builds the parts over the connection and its keys; it has
 * no methods of its own, so a call names the part it touches (`store.queries.getRequest(id)`) and a
 * dependency can be narrowed to that part (`Pick<AccessStore, 'queries'>`, or the part itself).
 * What the bot keeps for Slack (delivery de-duplication, approval message references) is the bot's:
 * bot/slack/.
 *
 * @example
 *   const store = new AccessStore(redis, { prefix: 'jitgate', clock: systemClock });
 *   const { decision, request } = await store.transitions.approve(requestId, approver);
 */
export class AccessStore {
  readonly keys: RedisKeys;
  readonly transitions: Transitions;
  readonly queries: GrantQueries;
  readonly codes: RedeemCodes;

  constructor(
    readonly redis: RedisClient,
    options: { prefix: string; clock: Clock; auditSink?: AuditSink },
  ) {
    this.keys = redisKeys(options.prefix);
    const ctx: ScriptContext = {
      redis,
      keys: this.keys,
      now: () => options.clock.now(),
      sink: options.auditSink ?? (() => {}),
    };
    this.transitions = new Transitions(ctx, options.clock);
    this.queries = new GrantQueries(ctx, options.clock);
    this.codes = new RedeemCodes(ctx);
  }
}
