// The local OpenID provider lives in dev/ (the demo starts one too); tests import it from here.
export { startOidcProvider, type TestIdp, type TestUser } from '../../dev/oidc/provider.js';
