import type { App } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';
import { accessCommand } from './access.js';

export function register(app: App, deps: BotDeps): void {
  app.command('/access', accessCommand(deps));
}
