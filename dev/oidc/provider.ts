import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import type Provider from 'oidc-provider';
import type { SignInConfig } from '../../shared/config.js';

/**
 * A real OpenID provider (panva's oidc-provider) on loopback port 0, for sign-in tests and the
 * signed-in part of `npm run demo` (loaded only when the oidc-provider package is installed). Its one
 * client is jitgate (the redirect URI given); its accounts are the users the test names. The login
 * and consent interactions finish at once for the user chosen with `signInAs` (no UI): the
 * browser is redirected through them like through any IdP's pages.
 */
export interface TestUser {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  /** Present when the provider plays Slack: the ID token carries https://slack.com/user_id and team_id. */
  slack?: { user: string; team: string };
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The user the next login interaction signs in. */
  signInAs(sub: string): void;
  addUser(user: TestUser): void;
  /** How many login interactions have run (each sign-in that reached the IdP's login). */
  logins(): number;
  /** The authorizer's sign-in settings for this IdP (scopes `openid email profile`, a 1-hour session unless told). */
  signInConfig(options?: { matchBy?: SignInConfig['matchBy']; sessionTtlMs?: number }): SignInConfig;
  close(): Promise<void>;
}

const SLACK_CLAIMS = ['https://slack.com/user_id', 'https://slack.com/team_id'];

/**
 * oidc-provider says on the console that Node 20 is not its supported runtime and that its state is
 * kept in memory: both expected of a loopback IdP for tests and the demo, so those two lines are
 * kept off the console while it loads and starts (anything else it says passes).
 */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING')) return;
    warn(...args);
  };
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

export async function startOidcProvider(options: {
  redirectUris: string[];
  users: TestUser[];
  clientId?: string;
}): Promise<TestIdp> {
  const users = new Map(options.users.map((u) => [u.sub, u]));
  let current = options.users[0]?.sub;
  let logins = 0;
  const clientId = options.clientId ?? 'jitgate-test';
  const clientSecret = randomBytes(24).toString('base64url');

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-idp', alg: 'RS256', use: 'sig' };

  // Loaded here, not at the top: the demo imports this module where oidc-provider may be absent.
  const { default: OidcProvider } = await quietly(() => import('oidc-provider'));
  const provider: Provider = await quietly(
    async () =>
      new OidcProvider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: options.redirectUris,
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_post',
          },
        ],
        jwks: { keys: [jwk] },
        ttl: {
          Session: 3600,
          Grant: 3600,
          AccessToken: 600,
          IdToken: 600,
          Interaction: 600,
          AuthorizationCode: 60,
        },
        cookies: { keys: [randomBytes(16).toString('hex')] },
        // The ID token carries the scopes' claims (email, name, Slack's ids), as Slack's and most IdPs' do.
        conformIdTokenClaims: false,
        claims: {
          openid: ['sub', ...SLACK_CLAIMS],
          email: ['email', 'email_verified'],
          profile: ['name'],
        },
        features: { devInteractions: { enabled: false } },
        pkce: { required: () => true },
        interactions: {
          url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
        },
        async findAccount(_ctx: unknown, sub: string) {
          const user = users.get(sub);
          if (!user) return undefined;
          return {
            accountId: sub,
            async claims() {
              return {
                sub,
                ...(user.email === undefined ? {} : { email: user.email }),
                ...(user.email_verified === undefined ? {} : { email_verified: user.email_verified }),
                ...(user.name === undefined ? {} : { name: user.name }),
                ...(user.slack
                  ? { [SLACK_CLAIMS[0]!]: user.slack.user, [SLACK_CLAIMS[1]!]: user.slack.team }
                  : {}),
              };
            },
          };
        },
      }),
  );
  // Quiet: errors the tests provoke on purpose are answered to the client, not printed.
  provider.on('server_error', () => {});

  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/interaction/')) {
      interact(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
      return;
    }
    callback(req, res);
  });

  async function interact(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      logins += 1;
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: current ?? 'nobody' } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const accountId = details.session?.accountId as string;
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id as string });
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  return {
    issuer,
    clientId,
    clientSecret,
    signInAs(sub) {
      current = sub;
    },
    addUser(user) {
      users.set(user.sub, user);
    },
    logins: () => logins,
    signInConfig: (options = {}) => ({
      issuer,
      clientId,
      clientSecret,
      scopes: ['openid', 'email', 'profile'],
      sessionTtlMs: options.sessionTtlMs ?? 3_600_000,
      matchBy: options.matchBy ?? 'email',
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
