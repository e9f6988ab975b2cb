import { z } from 'zod';
import { SlackUserIdSchema } from '../../shared/ids.js';

/**
 * The parts of Slack's payloads the listeners read, checked like any other outside input. Bolt has
 * verified the signature; these check the shape, so a handler never works on a guess.
 */

export const CommandBody = z.looseObject({
  user_id: SlackUserIdSchema,
  /** The workspace the command was typed in (recorded on the request: a Slack sign-in must be of it). */
  team_id: z.string().optional(),
  channel_id: z.string().default(''),
  trigger_id: z.string().default(''),
  response_url: z.string().optional(),
  text: z.string().default(''),
});
export type CommandBody = z.infer<typeof CommandBody>;

export const ButtonBody = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({ id: SlackUserIdSchema, team_id: z.string().optional() }),
  /** The workspace the click came from (null for an org-wide app). */
  team: z.looseObject({ id: z.string() }).nullish(),
  trigger_id: z.string().default(''),
  channel: z.looseObject({ id: z.string() }).optional(),
  response_url: z.string().optional(),
  actions: z
    .array(
      z.looseObject({
        action_id: z.string(),
        value: z.string().default(''),
        action_ts: z.string().default(''),
      }),
    )
    .min(1),
});
export type ButtonBody = z.infer<typeof ButtonBody>;

export const ViewBody = z.looseObject({
  type: z.literal('view_submission'),
  user: z.looseObject({ id: SlackUserIdSchema, team_id: z.string().optional() }),
  /** The workspace the form was submitted in (null for an org-wide app). */
  team: z.looseObject({ id: z.string() }).nullish(),
  trigger_id: z.string().default(''),
  view: z.looseObject({
    id: z.string().default(''),
    callback_id: z.string(),
    private_metadata: z.string().default(''),
    state: z.looseObject({ values: z.unknown() }).default({ values: {} }),
  }),
});
export type ViewBody = z.infer<typeof ViewBody>;

export const HomeOpenedEvent = z.looseObject({
  type: z.literal('app_home_opened'),
  user: SlackUserIdSchema,
  tab: z.string().default('home'),
});

/** The request modal's private_metadata: where to answer once the request is filed. */
export const RequestModalMetadata = z.object({ responseUrl: z.string().optional() });
