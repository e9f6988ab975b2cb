import type { IncomingMessage } from 'node:http';
import type { SlackBody } from './standin-answers.js';

/**
 * How calls reach the Slack stand-in: WebClient sends form-encoded arguments with nested objects
 * (`blocks`, `view`, …) as JSON text and the token in `Authorization: Bearer`; Bolt's `respond()`
 * sends JSON; older clients put the token in the form. This turns each into plain recorded arguments.
 */

/** Form fields that Slack's Web API takes as JSON text; recorded as the objects they encode. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata', 'unfurls', 'user_auth_blocks']);
/** Form flags that arrive as `'true'`/`'false'`; recorded as booleans. */
const FLAG_FIELDS = new Set([
  'unfurl_links',
  'unfurl_media',
  'mrkdwn',
  'reply_broadcast',
  'as_user',
  'link_names',
  'include_locale',
  'include_count',
  'return_im',
]);

export interface ParsedCall {
  body: SlackBody;
  /** The token from `Authorization: Bearer`, else from a `token` argument (which is left out of `body`). */
  token?: string;
}

/** A body that is not the JSON it claims to be; Slack answers `invalid_json`. */
export class InvalidJsonBody extends Error {
  override readonly name = 'InvalidJsonBody';
}

export function readRaw(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Form-encoded (what WebClient sends) or JSON (what `respond()` sends), plus any query arguments. */
export function parseCall(raw: string, req: IncomingMessage, query: URLSearchParams): ParsedCall {
  const body: SlackBody = {};
  for (const [k, v] of query) body[k] = formValue(k, v);
  if (String(req.headers['content-type'] ?? '').includes('application/json')) {
    Object.assign(body, jsonObject(raw));
  } else {
    for (const [k, v] of new URLSearchParams(raw)) body[k] = formValue(k, v);
  }
  const formToken = typeof body.token === 'string' ? body.token : undefined;
  // The token is a credential, not an argument: it never goes into the record that tests print and grep.
  delete body.token;
  const token = bearer(req.headers.authorization) ?? formToken;
  return token !== undefined ? { body, token } : { body };
}

function jsonObject(raw: string): SlackBody {
  if (raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidJsonBody('the body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidJsonBody('the body is JSON but not an object');
  }
  return parsed as SlackBody;
}

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

function formValue(key: string, value: string): unknown {
  if (FLAG_FIELDS.has(key) && (value === 'true' || value === 'false')) return value === 'true';
  if (!JSON_FIELDS.has(key)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
