import type { App } from '@slack/bolt';
import type { BotDeps } from '../deps.js';
import type { Workspace } from '../slack/workspace.js';
import * as actions from './actions/index.js';
import * as commands from './commands/index.js';
import * as errors from './errors.js';
import * as events from './events/index.js';
import type { InFlight } from './in-flight.js';
import * as views from './views/index.js';
import { installWorkspaceGuard } from './workspace-guard.js';

/**
 * Every listener, in one place: deliveries from another workspace refused first, then commands,
 * buttons, form submissions, events, and the error replies.
 */
export function registerListeners(
  app: App,
  deps: BotDeps,
  inFlight: InFlight,
  workspace: { get(): Promise<Workspace> },
): void {
  inFlight.install(app);
  errors.register(app, deps);
  installWorkspaceGuard(app, deps, workspace);
  commands.register(app, deps);
  actions.register(app, deps);
  views.register(app, deps);
  events.register(app, deps);
}
