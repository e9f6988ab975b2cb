import type { Refusal, RefusalCode } from '../refusals.js';
import { errorResponse } from './protocol.js';

/**
 * The SQLSTATE of a refusal: one pure mapping, like the HTTP statuses (refusals.ts statusFor).
 * Credentials and grants: 28P01 (invalid_password), as a wrong password reads; the person is
 * known but not let in: 28000 (invalid_authorization_specification); an unknown resource: 3D000
 * (invalid_catalog_name, "database does not exist"); jitgate or the database away: 57P03
 * (cannot_connect_now).
 */
const SQLSTATE: Partial<Record<RefusalCode, string>> = {
  token_missing: '28P01',
  token_invalid: '28P01',
  token_expired: '28P01',
  grant_revoked: '28P01',
  grant_expired: '28P01',
  no_grant: '28000',
  wrong_resource: '28000',
  method_not_allowed: '28000',
  network_not_allowed: '28000',
  no_such_resource: '3D000',
  unavailable: '57P03',
  upstream_unreachable: '57P03',
  upstream_timeout: '57P03',
  input_invalid: '08P01',
};

export function sqlstateFor(code: RefusalCode): string {
  return SQLSTATE[code] ?? 'XX000';
}

/**
 * A refusal as a FATAL ErrorResponse that psql prints readably: `FATAL:  jitgate token_expired:
 * <message>` then `HINT:  <hint>`. The code leads the message so that it shows in one-line output
 * (libpq's connection errors print the message only).
 */
export function refusalMessage(refusal: Refusal): Buffer {
  return errorResponse({
    severity: 'FATAL',
    code: sqlstateFor(refusal.code),
    message: `jitgate ${refusal.code}: ${refusal.message}`,
    hint: refusal.hint,
  });
}

/** A protocol violation by the client: 08P01, no hint beyond what was wrong. */
export function protocolViolation(why: string): Buffer {
  return errorResponse({
    severity: 'FATAL',
    code: '08P01',
    message: `jitgate: ${why}`,
    hint: 'Connect with a PostgreSQL client (psql, libpq, pg) speaking protocol 3.0.',
  });
}
