import * as client from 'openid-client';
import type { LoginTransaction } from './transaction.js';

/**
 * The identity provider, through openid-client: discovery from the issuer, then the authorization
 * code flow with PKCE, state and nonce. openid-client checks the ID token (issuer, audience,
 * expiry, nonce, signing algorithm) and, because non-repudiation checks are on, its signature with
 * the IdP's published keys too.
 */
/** How recent a step-up sign-in's authentication must be when its answer arrives (openid-client adds 30 s of tolerance). */
export const STEP_UP_MAX_AGE_SEC = 60;

export interface IdpOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: readonly string[];
  /** `<JITGATE_PUBLIC_URL>/_jitgate/oauth2/callback`: the one redirect URI registered at the IdP. */
  redirectUri: string;
  /** For each request to the IdP (default 10 s). */
  timeoutMs?: number;
}

export interface LoginStart {
  url: URL;
  state: string;
  nonce: string;
  verifier: string;
}

/** A failure at the IdP or in its answer; `message` says what, never a token or code. */
export class SignInFailure extends Error {
  constructor(
    readonly reason: 'idp_unreachable' | 'response_refused',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * @example
 *   const idp = createIdp({ issuer: 'https://slack.com', clientId, clientSecret, scopes, redirectUri });
 *   const start = await idp.begin();      // redirect the browser to start.url
 *   const claims = await idp.finish(callbackUrl, transaction);
 */
export function createIdp(opts: IdpOptions) {
  const server = new URL(opts.issuer);
  // The configuration has refused http:// for anything but a loopback issuer (tests, the demo).
  const insecure = server.protocol === 'http:';
  let configuration: Promise<client.Configuration> | undefined;

  async function discover(): Promise<client.Configuration> {
    const found = await client.discovery(server, opts.clientId, opts.clientSecret, undefined, {
      timeout: (opts.timeoutMs ?? 10_000) / 1000,
      execute: insecure ? [client.allowInsecureRequests] : [],
    });
    const metadata = found.serverMetadata();
    const methods = metadata.token_endpoint_auth_methods_supported;
    // client_secret_post unless the IdP says it only takes HTTP Basic.
    const basic =
      methods && !methods.includes('client_secret_post') && methods.includes('client_secret_basic');
    const config = new client.Configuration(
      metadata,
      opts.clientId,
      opts.clientSecret,
      basic ? client.ClientSecretBasic(opts.clientSecret) : client.ClientSecretPost(opts.clientSecret),
    );
    config.timeout = (opts.timeoutMs ?? 10_000) / 1000;
    if (insecure) client.allowInsecureRequests(config);
    client.enableNonRepudiationChecks(config);
    return config;
  }

  /** Discovered once; a failure is not cached, so the next sign-in tries again. */
  function configured(): Promise<client.Configuration> {
    configuration ??= discover().catch((err: unknown) => {
      configuration = undefined;
      throw new SignInFailure(
        'idp_unreachable',
        `The identity provider ${opts.issuer} could not be reached.`,
        {
          cause: err,
        },
      );
    });
    return configuration;
  }

  return {
    issuer: opts.issuer,
    /** Discovers now (at start), so that a misconfigured issuer shows in the log early. */
    warmUp: (): Promise<unknown> => configured(),

    /**
     * The IdP's authorization URL for a fresh state, nonce and PKCE verifier. `stepUp` asks the IdP
     * to authenticate the person afresh (`max_age=0`), whatever session it already has.
     */
    async begin(how: { stepUp?: boolean } = {}): Promise<LoginStart> {
      const config = await configured();
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: opts.redirectUri,
        scope: opts.scopes.join(' '),
        response_type: 'code',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...(how.stepUp ? { max_age: '0' } : {}),
      });
      return { url, state, nonce, verifier };
    },

    /**
     * Exchanges the callback's code (with the transaction's PKCE verifier) and returns the checked
     * ID token's claims. Throws SignInFailure when anything does not check out.
     */
    async finish(callbackUrl: URL, tx: LoginTransaction): Promise<Record<string, unknown>> {
      const config = await configured();
      let claims: Record<string, unknown> | undefined;
      try {
        const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
          expectedState: tx.state,
          expectedNonce: tx.nonce,
          pkceCodeVerifier: tx.verifier,
          idTokenExpected: true,
          // A step-up sign-in must come back with an auth_time of just now (within the clock tolerance).
          ...(tx.stepUp ? { maxAge: STEP_UP_MAX_AGE_SEC } : {}),
        });
        claims = tokens.claims();
      } catch (err) {
        throw new SignInFailure('response_refused', describe(err), { cause: err });
      }
      if (!claims) throw new SignInFailure('response_refused', 'The identity provider sent no ID token.');
      return claims;
    },
  };
}

export type Idp = ReturnType<typeof createIdp>;

/** openid-client's message (about a claim, a parameter or the IdP's error), without any value. */
function describe(err: unknown): string {
  if (err instanceof client.AuthorizationResponseError || err instanceof client.ResponseBodyError) {
    return `The identity provider refused: ${err.error}.`;
  }
  // openid-client wraps oauth4webapi's precise error ('unexpected JWT "iss" (issuer) claim value'):
  // say the innermost one, which names the claim or check that failed.
  let message = err instanceof Error ? err.message : String(err);
  for (let cause = (err as Error)?.cause, depth = 0; cause instanceof Error && depth < 5; depth++) {
    message = cause.message;
    cause = cause.cause;
  }
  return `The identity provider's answer did not check out: ${message.slice(0, 200)}.`;
}
