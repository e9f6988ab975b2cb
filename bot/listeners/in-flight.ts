import type { App } from '@slack/bolt';

/**
 * Counts the deliveries being handled, so that shutdown can let them finish; once `refuseNew` is
 * called, a late delivery is acknowledged and told to try again instead of starting work.
 */
export class InFlight {
  private count = 0;
  private refusing = false;
  private waiters: (() => void)[] = [];

  install(app: App): void {
    app.use(async ({ next, ack, body }) => {
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
      try {
        await next();
      } finally {
        this.count -= 1;
        if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
      }
    });
  }

  refuseNew(): void {
    this.refusing = true;
  }

  drained(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
