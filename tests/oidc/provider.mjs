// A real OpenID Connect provider (the OpenID-certified `oidc-provider` package) for the SSO
// integration tests (tests/it/sso.rs). Not part of the app.
//
// It listens on a free loopback port and prints `listening http://127.0.0.1:PORT` on stdout.
// The issuer is that address (plain http on loopback: the tests' one exception; the package
// accepts an http issuer, it only warns about it). The test then drives it over HTTP:
//   POST /__test/configure  {"redirect_uri": "..."}  creates the provider with one confidential
//                            client (`forgekeys-test` / `forgekeys-test-secret`) for that URI
//   POST /__test/account    {"account": "member"}    who signs in at the next interaction
//   POST /__test/tamper     {"email": "x@y"}          the next ID token carries this e-mail,
//                            its signature left as it was (so only the signature check stops it)
// Interactions (login and consent) complete at once for the chosen account: no pages, no
// development interactions.
import http from 'node:http';
import Provider from 'oidc-provider';

const ACCOUNTS = {
  member: { email: 'member@example.test', email_verified: true },
  unknown: { email: 'stranger@example.test', email_verified: true },
  unverified: { email: 'member@example.test', email_verified: false },
  invited: { email: 'invited@example.test', email_verified: true },
};

let current = 'member';
let tamperEmail = null;
let provider = null;

function readJson(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => { data += c; });
    req.on('end', () => {
      try { resolve(JSON.parse(data || '{}')); } catch { resolve({}); }
    });
  });
}

function b64urlJson(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

function build(issuer, redirectUri) {
  const p = new Provider(issuer, {
    clients: [{
      client_id: 'forgekeys-test',
      client_secret: 'forgekeys-test-secret',
      redirect_uris: [redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // The e-mail claims in the ID token itself (the app reads them there).
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['forgekeys-test-cookie-key'] },
    async findAccount(ctx, id) {
      const account = ACCOUNTS[id];
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...account }) };
    },
    // First-party test client: every scope asked for is granted without a consent page.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email');
      await grant.save();
      return grant;
    },
  });
  p.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/token' && tamperEmail && ctx.body && ctx.body.id_token) {
      const [head, payload, sig] = ctx.body.id_token.split('.');
      const claims = b64urlJson(payload);
      claims.email = tamperEmail;
      const forged = Buffer.from(JSON.stringify(claims)).toString('base64url');
      ctx.body = { ...ctx.body, id_token: `${head}.${forged}.${sig}` };
      tamperEmail = null;
    }
  });
  return p;
}

process.stdout.on('error', () => {});

// Requests per path (not the /__test/ ones), for tests of what the app fetches how often.
const counts = {};

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const issuer = `http://127.0.0.1:${server.address().port}`;
  if (req.method === 'GET' && url.pathname === '/__test/counts') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counts));
    return;
  }
  if (!url.pathname.startsWith('/__test/')) counts[url.pathname] = (counts[url.pathname] || 0) + 1;
  if (req.method === 'POST' && url.pathname.startsWith('/__test/')) {
    const body = await readJson(req);
    if (url.pathname === '/__test/configure') provider = build(issuer, body.redirect_uri);
    if (url.pathname === '/__test/account') current = body.account;
    if (url.pathname === '/__test/tamper') tamperEmail = body.email;
    res.writeHead(204).end();
    return;
  }
  if (!provider) {
    res.writeHead(503).end('not configured');
    return;
  }
  if (url.pathname.startsWith('/interaction/')) {
    try {
      const details = await provider.interactionDetails(req, res);
      const result = details.prompt.name === 'login'
        ? { login: { accountId: current } }
        : { consent: {} };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
    } catch (e) {
      res.writeHead(400).end(String(e));
    }
    return;
  }
  provider.callback()(req, res);
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`);
});
