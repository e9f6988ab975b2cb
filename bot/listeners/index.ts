import type { App } from '@slack/bolt';
import type { BotDeps } from '../deps.js';
import * as actions from './actions/index.js';
import * as commands from './commands/index.js';
import * as errors from './errors.js';
import * as events from './events/index.js';
import type { InFlight } from './in-flight.js';
import * as views from './views/index.js';

/** Every listener, in one place: commands, buttons, form submissions, events, and the error replies. */
export function registerListeners(app: App, deps: BotDeps, inFlight: InFlight): void {
  inFlight.install(app);
  errors.register(app, deps);
  commands.register(app, deps);
  actions.register(app, deps);
  views.register(app, deps);
  events.register(app, deps);
}
