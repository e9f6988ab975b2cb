import { createHash, randomBytes } from 'node:crypto';
import type { GrantId } from '../ids.js';
import { guard } from './guard.js';
import type { ScriptContext } from './lua/run.js';
import { refusal } from './lua/run.js';
import * as scripts from './lua/scripts.js';
import type { LiveGrant } from './records.js';

const REDEEM_CODE_TTL_MS = 10 * 60_000;
/** What createRedeemCode makes (24 random bytes, base64url), with room; anything else is unknown. */
const REDEEM_CODE = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * One-time redeem codes: random, stored only as their hash, valid 10 minutes, consumed once by a
 * script that also audits `grant.redeemed`.
 *
 * @example const code = await codes.createRedeemCode(grantId); const grant = await codes.consumeRedeemCode(code);
 */
export class RedeemCodes {
  constructor(private readonly ctx: ScriptContext) {}

  /** A one-time redeem code for a grant: random, stored only as its hash, valid 10 minutes. */
  async createRedeemCode(grantId: GrantId): Promise<string> {
    const code = randomBytes(24).toString('base64url');
    const { redis, keys } = this.ctx;
    await guard(() => redis.set(keys.redeemCode(hashCode(code)), grantId, 'PX', REDEEM_CODE_TTL_MS));
    return code;
  }

  /**
   * The grant a redeem code is for, without consuming it: undefined when the code is unknown, used
   * or expired. For answers that must leave the code usable (a link opened where it cannot work).
   */
  async redeemCodeGrant(code: string): Promise<GrantId | undefined> {
    if (!REDEEM_CODE.test(code)) return undefined;
    const { redis, keys } = this.ctx;
    const grantId = await guard(() => redis.get(keys.redeemCode(hashCode(code))));
    return grantId === null ? undefined : (grantId as GrantId);
  }

  /** Consumes a redeem code once and audits `grant.redeemed`. Throws code_used / code_unknown / grant_not_active. */
  async redeem(code: string): Promise<GrantId> {
    return (await this.consumeRedeemCode(code)).id;
  }

  /**
   * As `redeem`, answering the code's grant as it stood when the code was consumed (live, so no
   * re-read). `client`, the address that redeemed it, goes in the `grant.redeemed` event.
   */
  async consumeRedeemCode(code: string, client?: string): Promise<LiveGrant> {
    if (!REDEEM_CODE.test(code)) throw refusal('code_unknown');
    const h = hashCode(code);
    const { redis, keys } = this.ctx;
    // The script must be given the grant's key, so the code's grant is read first; consuming the code
    // (once, whoever comes first) is the script's, which checks that the code still names this grant.
    const [grantId, used] = await guard(() => redis.mget(keys.redeemCode(h), keys.redeemCodeUsed(h)));
    if (!grantId) throw refusal(used ? 'code_used' : 'code_unknown');
    return scripts.redeemCode(this.ctx, {
      codeHash: h,
      grantId: grantId as GrantId,
      usedMarkerMs: REDEEM_CODE_TTL_MS,
      client,
    });
  }
}

function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
}
