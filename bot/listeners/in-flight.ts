import type { App } from '@slack/bolt';

/** Deliveries doing their work after the ack at once; the others wait their turn (FIFO). */
export const FOLLOW_UPS_AT_ONCE = 8;

const TURN = 'jitgateTurn';

/**
 * Waits for this delivery's turn to do its work after the ack (a no-op outside a delivery counted by
 * `InFlight`). Acks never wait: in a burst, every request is acknowledged first, and the work that
 * follows (the use case, Slack calls) runs a few deliveries at a time instead of all at once, so it
 * does not hold up reading the next request. Called by `firstDelivery`, right after `ack()`.
 */
export async function afterAck(context: Record<string, unknown>): Promise<void> {
  const turn = context[TURN];
  if (typeof turn === 'function') await (turn as () => Promise<void>)();
}

/**
 * Counts the deliveries being handled, so that shutdown can let them finish; once `refuseNew` is
 * called, a late delivery is acknowledged and told to try again instead of starting work. Also
 * gives deliveries their turn for the work after the ack (`afterAck`), `FOLLOW_UPS_AT_ONCE` at a time.
 */
export class InFlight {
  private count = 0;
  private refusing = false;
  private waiters: (() => void)[] = [];
  private working = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly atOnce = FOLLOW_UPS_AT_ONCE) {}

  install(app: App): void {
    app.use(async ({ next, ack, body, context }) => {
      if (this.refusing) {
        const isCommand = typeof body === 'object' && body !== null && 'command' in body;
        if (typeof ack === 'function') {
          await (ack as (reply?: unknown) => Promise<void>)(
            isCommand
              ? {
                  response_type: 'ephemeral',
                  text: 'jitgate is restarting; nothing was done. Try again in a few seconds.',
                }
              : undefined,
          );
        }
        return;
      }
      this.count += 1;
      let holds = false;
      context[TURN] = async () => {
        if (holds) return;
        await this.turn();
        holds = true;
      };
      try {
        await next();
      } finally {
        if (holds) this.release();
        this.count -= 1;
        if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
      }
    });
  }

  private turn(): Promise<void> {
    if (this.working < this.atOnce) {
      this.working += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  /** Hands the turn to the next delivery waiting (the count of working ones stays), or frees it. */
  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.working -= 1;
  }

  refuseNew(): void {
    this.refusing = true;
  }

  drained(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
