import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { guard } from '../grants/guard.js';
import { RequestIdSchema, SlackUserIdSchema } from '../ids.js';
import type { RedisClient } from '../redis/connect.js';
import type { RedisKeys } from '../redis/keys.js';

/** How long an approver has to confirm in the browser after clicking Approve. */
export const STEP_UP_TTL_MS = 10 * 60_000;

/**
 * An approval waiting to be confirmed in the browser with a fresh sign-in (approverStepUp): which
 * request, who clicked Approve in Slack (their Slack id, workspace and e-mail, for matching the
 * person who signs in) and when. Made by the bot, which checked that this person may decide the request.
 */
export const StepUpTicket = z.object({
  requestId: RequestIdSchema,
  approver: SlackUserIdSchema,
  team: z.string().max(64).optional(),
  email: z.string().max(320),
  /**
   * When Approve was clicked (ms): only a sign-in after it confirms this approval, so that a step-up
   * session (or a copy of its cookie) cannot confirm an approval clicked later without one.
   */
  clickedAt: z.number().int().nonnegative(),
});
export type StepUpTicket = z.infer<typeof StepUpTicket>;

const hash = (code: string) => createHash('sha256').update(code).digest('base64url');
const CODE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The one-time codes behind the Confirm links: stored hashed with their ticket for STEP_UP_TTL_MS;
 * `take` reads and deletes in one step, so a code confirms once.
 *
 * @example const code = await steps.create(ticket); … const ticket = await steps.take(code);
 */
export class StepUpStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async create(ticket: StepUpTicket): Promise<string> {
    const code = randomBytes(32).toString('base64url');
    await guard(() =>
      this.redis.set(this.keys.stepUp(hash(code)), JSON.stringify(ticket), 'PX', STEP_UP_TTL_MS),
    );
    return code;
  }

  /** The ticket, still usable; undefined for an unknown, used or expired code. */
  async read(code: string): Promise<StepUpTicket | undefined> {
    if (!CODE.test(code)) return undefined;
    return parse(await guard(() => this.redis.get(this.keys.stepUp(hash(code)))));
  }

  /** The ticket, used up now (GETDEL): a second take of the same code finds nothing. */
  async take(code: string): Promise<StepUpTicket | undefined> {
    if (!CODE.test(code)) return undefined;
    return parse(await guard(() => this.redis.getdel(this.keys.stepUp(hash(code)))));
  }
}

function parse(raw: string | null): StepUpTicket | undefined {
  if (!raw) return undefined;
  try {
    const ticket = StepUpTicket.safeParse(JSON.parse(raw));
    return ticket.success ? ticket.data : undefined;
  } catch {
    return undefined;
  }
}
