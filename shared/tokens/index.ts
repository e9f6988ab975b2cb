export { ACCESS_TOKEN_TYPE, type AccessTokenInput, signAccessToken } from './access-token.js';
export { ASSERTION_TYPE, type AssertionInput, createAssertionSigner, verifyAssertion } from './assertion.js';
export { generateSigningKeySet, loadSigningKeys, type SigningAlg, type SigningKeys } from './keys.js';
export {
  AccessClaims,
  type AccessTokenVerifier,
  createAccessTokenVerifier,
  type TokenFailure,
  tokenInvalid,
} from './verifier.js';
