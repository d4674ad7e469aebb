// A real OpenID Connect provider for the "Sign in with Google" tests (tests/integration/google).
//
//   PORT=4444 CLIENTS='[{"client_id": ..., "client_secret": ..., "redirect_uris": [...]}]' node server.js
//
// Accounts are fixed (below). The development login form accepts an account id as the login and
// any password. PKCE is required of every client. Prints "listening <issuer>" when ready.
//
// Test hook: POST /__test/tamper with a JSON object of ID token claims to override (e.g.
// {"aud": "someone-else"}) makes the next token response carry an ID token re-signed with the
// provider's own key with those claims changed: the app must refuse it.
import { generateKeyPair, exportJWK, decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 4444);
const issuer = process.env.ISSUER || `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.CLIENTS || '[]').map((client) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
  ...client,
}));

const ACCOUNTS = {
  alice: { email: 'alice@example.org', email_verified: true, name: 'Alice Liddell' },
  bob: { email: 'bob@example.org', email_verified: true, name: 'Bob Marley' },
  // An address the provider has not verified: never trusted for an account.
  mallory: { email: 'mallory@example.org', email_verified: false, name: 'Mallory' },
};

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['carebook-test-oidc-cookie-key'] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // Claims in the ID token itself (as Google does), not only from the userinfo endpoint.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, sub) {
    const claims = ACCOUNTS[sub];
    if (!claims) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...claims }) };
  },
  async renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});

let tamper = null;

provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/__test/tamper') {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    tamper = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    ctx.status = 204;
    return;
  }
  await next();
  if (ctx.path === '/token' && tamper && ctx.status === 200 && ctx.body?.id_token) {
    const claims = { ...decodeJwt(ctx.body.id_token), ...tamper };
    const header = decodeProtectedHeader(ctx.body.id_token);
    ctx.body = {
      ...ctx.body,
      id_token: await new SignJWT(claims).setProtectedHeader(header).sign(privateKey),
    };
    tamper = null;
  }
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
