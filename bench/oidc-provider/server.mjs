// The reference OpenID provider for bench/oidc.sh: npm oidc-provider (panva), in
// memory, over HTTPS with keep-alive, set up like passgrid for the measured rounds:
// one confidential client, PKCE S256, ES256 ID tokens, an SSO session made once by
// an interaction the benchmark script drives, consent granted for the first-party
// client (as passgrid does not ask).
//   node server.mjs PORT CERT.pem KEY.pem CLIENT_ID SECRET REDIRECT_URI
import https from 'node:https';
import fs from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, certFile, keyFile, clientId, secret, redirectUri] = process.argv.slice(2);
const issuer = `https://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'bench' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: secret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: [secret] },
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'] },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, preferred_username: sub, name: 'Bench User', email: `${sub}@example.com` }),
  }),
  // A first-party client: the grant is made without a consent screen.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email');
    await grant.save();
    return grant;
  },
});

const callback = provider.callback();
const server = https.createServer(
  { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), keepAlive: true },
  async (req, res) => {
    // The one interaction: sign the bench user in (what passgrid's grid does once).
    const m = req.url.match(/^\/interaction\/([^/?]+)/);
    if (m) {
      try {
        await provider.interactionFinished(req, res, { login: { accountId: 'bench' } }, { mergeWithLastSubmission: false });
      } catch (e) {
        res.statusCode = 400;
        res.end(String(e));
      }
      return;
    }
    callback(req, res);
  },
);
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => console.log(JSON.stringify({ event: 'listening', issuer })));
