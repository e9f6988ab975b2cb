/**
 * Tokens, signed and checked with jose: the private key set (`loadSigningKeys`), the bearer token
 * of a grant (`signAccessToken`, `createAccessTokenVerifier`) and the short-lived assertion the
 * authorizer sends upstream (`createAssertionSigner`, `verifyAssertion`).
 *
 * @example
 *   const keys = await loadSigningKeys(config.JITGATE_SIGNING_KEYS);
 *   const token = await signAccessToken(keys, { issuer, grantId, user, email, resource: 'grafana', role, expiresAt }, clock);
 *   const verifier = createAccessTokenVerifier({ keys, issuer, clock });
 *   const claims = await verifier.verify(token, 'grafana'); // { sub, aud, gid, role, email, iat, nbf, exp, ... }
 *
 * @module
 */
export { ACCESS_TOKEN_TYPE, type AccessTokenInput, signAccessToken } from './access-token.js';
export {
  ASSERTION_TYPE,
  AssertionClaims,
  type AssertionInput,
  type AssertionSigner,
  type AssertionSignerOptions,
  createAssertionSigner,
  MAX_ASSERTION_LIFETIME_SEC,
  verifyAssertion,
} from './assertion.js';
export {
  generateSigningKeySet,
  KEYS_HOW,
  loadSigningKeys,
  type SigningAlg,
  type SigningKeys,
} from './keys.js';
export {
  AccessClaims,
  type AccessTokenVerifier,
  type AccessTokenVerifierOptions,
  createAccessTokenVerifier,
  MAX_TOKEN_LENGTH,
  type TokenFailure,
  tokenExpired,
  tokenInvalid,
} from './verifier.js';
