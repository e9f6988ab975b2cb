import { messageOf } from './messages.js';

/**
 * Every error jitgate raises on purpose carries a stable `code` that callers switch on, a message
 * written for the person who will read it (from the catalogue in messages.ts), and structured
 * `fields` for logs and for that message.
 *
 * @example
 *   throw errorFor('request_not_pending', { requestId, detail: 'denied' });
 */
export const ERROR_CODES = [
  // configuration and policy
  'config_invalid',
  'policy_invalid',
  'keys_invalid',
  // input from a person
  'input_invalid',
  'duration_invalid',
  'duration_too_long',
  'no_such_resource',
  'no_such_role',
  'not_allowed_to_request',
  'break_glass_not_allowed',
  'email_required',
  'too_many_pending',
  'extension_pending',
  'extension_at_maximum',
  // lifecycle
  'no_such_request',
  'request_exists',
  'no_such_grant',
  'request_not_pending',
  'not_an_approver',
  'self_approval',
  'not_allowed_to_revoke',
  'not_allowed_to_cancel',
  'not_break_glass',
  'not_allowed_to_review',
  'step_up_required',
  'grant_not_active',
  'code_unknown',
  'code_used',
  'not_the_holder',
  'signin_required',
  // access decisions (the authorizer's refusal codes)
  'token_missing',
  'token_invalid',
  'token_expired',
  'grant_revoked',
  'grant_expired',
  'no_grant',
  'wrong_resource',
  'method_not_allowed',
  'network_not_allowed',
  'bad_path',
  // dependencies
  'unavailable',
  'not_replicated',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export type ErrorFields = Record<string, unknown>;

export class JitgateError extends Error {
  override readonly name = 'JitgateError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields: ErrorFields = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An error with the catalogue's wording for its code (messages.ts), so that one code reads the same
 * wherever it is raised.
 *
 * @example throw errorFor('no_such_grant', { grantId });
 */
export function errorFor(
  code: ErrorCode,
  fields: ErrorFields = {},
  options?: { cause?: unknown },
): JitgateError {
  return new JitgateError(code, messageOf(code, fields), fields, options);
}

export function isJitgateError(err: unknown, code?: ErrorCode): err is JitgateError {
  return err instanceof JitgateError && (code === undefined || err.code === code);
}

/** Redis could not be reached or answered with an error: callers must fail closed. */
export function unavailable(cause: unknown): JitgateError {
  return errorFor('unavailable', {}, { cause });
}
