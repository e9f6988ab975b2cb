import { createHash } from 'node:crypto';
import type { HomeView } from '@slack/types';
import type { HomeContent } from '../../shared/access/queries.js';
import type { AccessService } from '../../shared/access/service.js';
import type { SlackUserId } from '../../shared/ids.js';
import { homeView } from '../views/home.js';
import type { EffectDeps } from './deps.js';

type HomeDeps = Pick<EffectDeps, 'client' | 'clock' | 'log'> & {
  access: Pick<AccessService, 'homes'>;
};

/** How App Home refreshes are coalesced (`HomeRefresher`). */
export interface HomeRefreshSettings {
  /** A refresh waits this long, gathering others, before the homes are read and published. */
  windowMs: number;
  /** Publishes in flight at once. */
  concurrency: number;
  /** A home whose content is the same as what was published this recently is not published again. */
  sameForMs: number;
  /** People whose last published home is remembered (the oldest are forgotten past it). */
  remember: number;
}

export const HOME_REFRESH: HomeRefreshSettings = {
  windowMs: 200,
  concurrency: 8,
  sameForMs: 60_000,
  remember: 10_000,
};

/**
 * Keeps App Homes up to date after changes without letting them crowd out the acks: a change marks
 * the homes of the people involved; within a short window (`windowMs`) every marked home is read in
 * one batched read (`AccessService.homes`: two pipelined round trips however many homes), rendered,
 * and published, except a home whose content is what was just published. A home marked while a
 * round runs is published again in the next round: the latest state wins and no refresh is lost,
 * and each person's home is published at most once a window. Best effort, as before: a home that
 * fails to publish is logged and refreshed the next time it changes or its owner opens it.
 *
 * @example deps.homes.refresh(['U0ALICE', 'U0BOB']); await deps.homes.settled();
 */
export class HomeRefresher {
  private readonly dirty = new Set<SlackUserId>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private readonly published = new Map<SlackUserId, { fingerprint: string; at: number }>();
  private waiters: (() => void)[] = [];
  private readonly settings: HomeRefreshSettings;

  constructor(
    private readonly deps: HomeDeps,
    settings: Partial<HomeRefreshSettings> = {},
  ) {
    this.settings = { ...HOME_REFRESH, ...settings };
  }

  /** Marks these people's homes as changed; they are published within the window. Never throws. */
  refresh(users: readonly SlackUserId[]): void {
    for (const user of users) this.dirty.add(user);
    this.schedule();
  }

  /** Publishes one person's home now (they opened it), whatever was published before. */
  async publishNow(user: SlackUserId): Promise<void> {
    const homes = await this.deps.access.homes([user]);
    await this.publish(user, homes.get(user), { always: true });
  }

  /** Resolves once no home is waiting to be published and no round is running. */
  settled(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Publishes what is waiting at once (no window) and resolves when done: for shutdown. */
  async flush(): Promise<void> {
    while (!this.idle()) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.start();
      }
      await this.round;
    }
  }

  private idle(): boolean {
    return this.dirty.size === 0 && this.timer === undefined && this.round === undefined;
  }

  private schedule(): void {
    if (this.timer || this.round || this.dirty.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, this.settings.windowMs);
  }

  private start(): void {
    this.round = this.runRound().finally(() => {
      this.round = undefined;
      this.schedule();
      if (this.idle()) for (const wake of this.waiters.splice(0)) wake();
    });
  }

  private async runRound(): Promise<void> {
    const users = [...this.dirty];
    this.dirty.clear();
    let homes: Map<SlackUserId, HomeContent>;
    try {
      homes = await this.deps.access.homes(users);
    } catch (err) {
      this.deps.log.warn({ err: String(err), users: users.length }, 'App Homes not refreshed');
      return;
    }
    let next = 0;
    const lane = async () => {
      while (next < users.length) {
        const user = users[next++]!;
        await this.publish(user, homes.get(user), { always: false }).catch((err: unknown) =>
          this.deps.log.warn({ err: String(err), user }, 'App Home not refreshed'),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.settings.concurrency, users.length) }, lane));
  }

  private async publish(
    user: SlackUserId,
    content: HomeContent | undefined,
    how: { always: boolean },
  ): Promise<void> {
    const now = this.deps.clock.now();
    const view = homeView(content ?? { grants: [], pending: [], awaiting: [], toReview: [] }, now);
    const fingerprint = fingerprintOf(view);
    const last = this.published.get(user);
    if (!how.always && last?.fingerprint === fingerprint && now - last.at < this.settings.sameForMs) return;
    this.published.delete(user);
    await this.deps.client.views.publish({ user_id: user, view });
    this.published.set(user, { fingerprint, at: now });
    if (this.published.size > this.settings.remember) {
      const oldest = this.published.keys().next().value;
      if (oldest !== undefined) this.published.delete(oldest);
    }
  }
}

/** What a home shows, without its last line ("Updated …", which changes every time). */
function fingerprintOf(view: HomeView): string {
  return createHash('sha256')
    .update(JSON.stringify(view.blocks.slice(0, -1)))
    .digest('base64url');
}
