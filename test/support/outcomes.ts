import { effectsOf, type Outcome } from '../../shared/access/effects.js';

/** The one-time link a granting outcome's DM hands over (its `send-redeem-link` effect); undefined when nothing was granted. */
export function redeemUrlOf(outcome: Pick<Outcome, 'effects'>): string | undefined {
  return effectsOf(outcome.effects, 'send-redeem-link')[0]?.redeemUrl;
}
