import type {
  ActionsBlock,
  Button,
  ContextBlock,
  DividerBlock,
  HeaderBlock,
  MrkdwnElement,
  PlainTextElement,
  SectionBlock,
} from '@slack/types';
import { truncate } from './mrkdwn.js';

/** Small Block Kit builders, so that views read as what they show rather than as JSON. */

export const plain = (text: string): PlainTextElement => ({ type: 'plain_text', text, emoji: true });
export const mrkdwn = (text: string): MrkdwnElement => ({ type: 'mrkdwn', text });

export function header(text: string): HeaderBlock {
  return { type: 'header', text: plain(truncate(text, 150)) };
}

export function section(text: string, accessory?: Button): SectionBlock {
  return accessory
    ? { type: 'section', text: mrkdwn(text), accessory }
    : { type: 'section', text: mrkdwn(text) };
}

/** A section laid out as two columns of `*label*\nvalue` fields (Slack shows at most 10). */
export function fields(pairs: [label: string, value: string][]): SectionBlock {
  return {
    type: 'section',
    fields: pairs.slice(0, 10).map(([label, value]) => mrkdwn(`*${label}*\n${value}`)),
  };
}

export function context(...texts: string[]): ContextBlock {
  return { type: 'context', elements: texts.slice(0, 10).map(mrkdwn) };
}

export const divider = (): DividerBlock => ({ type: 'divider' });

export function actions(blockId: string | undefined, ...elements: Button[]): ActionsBlock {
  return blockId ? { type: 'actions', block_id: blockId, elements } : { type: 'actions', elements };
}

export interface ButtonOptions {
  style?: 'primary' | 'danger';
  /** Ask before acting: [title, question, confirm label]. */
  confirm?: [title: string, question: string, yes: string];
}

export function button(text: string, actionId: string, value: string, options: ButtonOptions = {}): Button {
  const b: Button = { type: 'button', action_id: actionId, text: plain(truncate(text, 75)), value };
  if (options.style) b.style = options.style;
  if (options.confirm) {
    const [title, question, yes] = options.confirm;
    b.confirm = {
      title: plain(truncate(title, 100)),
      text: mrkdwn(question),
      confirm: plain(yes),
      deny: plain('Keep it'),
      ...(options.style === 'danger' ? { style: 'danger' as const } : {}),
    };
  }
  return b;
}

/** A link button: Slack opens the URL in the browser; the click still reaches the app, which acks it. */
export function linkButton(text: string, actionId: string, url: string): Button {
  return { type: 'button', action_id: actionId, text: plain(truncate(text, 75)), url, style: 'primary' };
}
