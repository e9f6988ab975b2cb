/**
 * Every error jitgate raises on purpose carries a stable `code` that callers switch on, a message
 * written for the person who will read it, and structured `fields` for logs.
 *
 * @example
 *   throw new JitgateError('request_not_pending', 'This request was already denied.', { requestId });
 */
export type ErrorCode =
  // configuration and policy
  | 'config_invalid'
  | 'policy_invalid'
  | 'keys_invalid'
  // input from a person
  | 'input_invalid'
  | 'duration_invalid'
  | 'duration_too_long'
  | 'no_such_resource'
  | 'no_such_role'
  | 'not_allowed_to_request'
  | 'break_glass_not_allowed'
  // lifecycle
  | 'no_such_request'
  | 'no_such_grant'
  | 'request_not_pending'
  | 'not_an_approver'
  | 'self_approval'
  | 'not_allowed_to_revoke'
  | 'not_allowed_to_cancel'
  | 'grant_not_active'
  | 'code_unknown'
  | 'code_used'
  // access decisions (the authorizer's refusal codes)
  | 'token_missing'
  | 'token_invalid'
  | 'token_expired'
  | 'grant_revoked'
  | 'grant_expired'
  | 'wrong_resource'
  | 'method_not_allowed'
  | 'network_not_allowed'
  | 'bad_path'
  // dependencies
  | 'unavailable';

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

export function isJitgateError(err: unknown, code?: ErrorCode): err is JitgateError {
  return err instanceof JitgateError && (code === undefined || err.code === code);
}

/** Redis could not be reached or answered with an error: callers must fail closed. */
export function unavailable(cause: unknown): JitgateError {
  return new JitgateError(
    'unavailable',
    'jitgate cannot reach its state store right now; try again shortly.',
    {},
    {
      cause,
    },
  );
}
