// Development OpenID Connect provider for Sluice's end-to-end tests and local work.
// It accepts ANY password: never expose it beyond the loopback interface.
//
//   node server.mjs            start the provider (configuration: README.md)
//   node server.mjs gen-key K  print one private signing JWK with kid K (for IDP_JWKS_FILE)
//
// IDP_KEY_ALG=ES256 signs with P-256 keys only (RS256 by default); an IDP_ISSUER with a
// path (http://127.0.0.1:9090/realms/sluice, as Keycloak has) serves everything under it.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const keyAlg = process.env.IDP_KEY_ALG || 'RS256';
const signingJwk = (kid) => ({
  ...(keyAlg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 })
  ).privateKey.export({ format: 'jwk' }),
  kid,
  alg: keyAlg,
  use: 'sig',
});

if (process.argv[2] === 'gen-key') {
  const kid = process.argv[3];
  if (!kid) {
    console.error('usage: node server.mjs gen-key <kid>');
    process.exit(2);
  }
  console.log(JSON.stringify(signingJwk(kid)));
  process.exit(0);
}

// Imported only now so gen-key prints nothing but the key (the library warns on import).
const { default: Provider } = await import('oidc-provider');

const env = (name, fallback) => process.env[name] || fallback;
const list = (value) => value.split(',').map((s) => s.trim()).filter(Boolean);

const port = Number(env('IDP_PORT', '9090'));
const host = env('IDP_HOST', '127.0.0.1');
const issuer = env('IDP_ISSUER', `http://127.0.0.1:${port}`).replace(/\/+$/, '');
const jwksFile = process.env.IDP_JWKS_FILE;

// The keystore's signing-key choice is a stable sort on how well alg/use match, so giving every
// key the same alg/use makes the FIRST key in the file the one that signs (rotation tests rely on it).
const keys = jwksFile
  ? JSON.parse(readFileSync(jwksFile, 'utf8')).keys.map((k) => ({ alg: keyAlg, use: 'sig', ...k }))
  : [signingJwk(`dev-${Date.now()}`)];
// The issuer's path, if any: every request arrives under it.
const prefix = new URL(issuer).pathname.replace(/\/+$/, '');

// Fixed dev users; any other login becomes a fresh verified user so tests can mint new identities.
const KNOWN = {
  ann: 'Ann Anderson',
  bob: 'Bob Brown',
  carol: 'Carol Clark',
  dave: 'Dave Davis',
  unverified: 'Uma Unverified',
  // A provider that sends no email_verified claim for her (as some do for everyone).
  noclaim: 'Nora Noclaim',
  // A broken provider's userinfo, which answers about someone else (ann) for her.
  impostor: 'Ivy Impostor',
};
const DOMAIN = '@example.com';

// accountId (= sub) is derived from the login alone, so it stays stable across restarts.
function accountIdFor(login) {
  let name = login.trim().toLowerCase();
  if (name.endsWith(DOMAIN)) name = name.slice(0, -DOMAIN.length);
  return /^[a-z0-9._+-]+(@[a-z0-9.-]+)?$/.test(name) ? `user-${name}` : undefined;
}

function account(accountId) {
  const name = accountId.slice('user-'.length);
  const email = name.includes('@') ? name : name + DOMAIN;
  return {
    accountId,
    claims: async () => ({
      sub: accountId,
      email,
      ...(email === `noclaim${DOMAIN}` ? {} : { email_verified: email !== `unverified${DOMAIN}` }),
      name: KNOWN[name] ?? name,
    }),
  };
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: env('IDP_CLIENT_ID', 'sluice'),
    client_secret: env('IDP_CLIENT_SECRET', 'sluice-dev-secret'),
    redirect_uris: list(env('IDP_REDIRECT_URIS', 'http://127.0.0.1:8080/api/v1/auth/callback')),
    post_logout_redirect_uris: list(env('IDP_POST_LOGOUT_REDIRECT_URIS', 'http://127.0.0.1:8080/')),
    id_token_signed_response_alg: keyAlg,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // client_secret_post is accepted for this client too: oidc-provider treats the two secret methods alike.
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys },
  // Per-process signing keys are enough: sessions live in memory and die with the process anyway.
  // Cookies are scoped by host, not port, so prefixed names keep them apart from Sluice's on 127.0.0.1.
  cookies: {
    keys: [randomBytes(32).toString('base64url')],
    names: { session: 'idp_session', interaction: 'idp_interaction', resume: 'idp_interaction_resume' },
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The provider's default, conforming setting (conformIdTokenClaims: true): with an access
  // token issued, email and name come from userinfo only, as from most real providers.
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false }, // replaced by the JS-free routes below
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
  },
  // Absolute URL so every Location header in the flow is absolute (simpler for test clients).
  interactions: { url: (ctx, interaction) => `${issuer}/interaction/${interaction.uid}` },
  findAccount: (ctx, id) => account(id),
  // Consent is implied for the dev client: grant whatever was asked so no consent prompt appears.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    const grant = (grantId && await oidc.provider.Grant.find(grantId))
      || new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
    grant.addOIDCScope([...oidc.requestParamScopes].join(' '));
    grant.addOIDCClaims([...oidc.requestParamClaims]);
    await grant.save();
    return grant;
  },
  // Hand out refresh tokens without the offline_access + prompt=consent dance.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  // Explicit TTLs also silence the library's "you should change this" notices. The code lives 10 min
  // (library default: 1) so a slow debug-build test does not trip over it.
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 600,
    IdToken: 3600,
    Interaction: 3600,
    RefreshToken: 14 * 86400,
    Grant: 14 * 86400,
    Session: 14 * 86400,
  },
  renderError(ctx, out) {
    ctx.type = 'text';
    ctx.body = `${out.error}: ${out.error_description ?? ''}\n`;
  },
});

// Errors go to stdout with the library's private detail, which never reaches the client.
for (const event of ['server_error', 'authorization.error', 'grant.error', 'end_session.error',
  'end_session_confirm.error', 'userinfo.error']) {
  provider.on(event, (ctx, err) => {
    console.log(`  ${event}: ${[err.message, err.error_description, err.error_detail].filter(Boolean).join(' | ')}`);
  });
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head>`
    + `<body><h1>${esc(title)}</h1>${body}</body></html>`);
}

// Plain HTML with a real submit button: the logout form stays completable without JavaScript.
async function logoutSource(ctx, form) {
  ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Sign out</title></head><body>
<h1>Sign out of ${esc(ctx.host)}?</h1>
${form.replace('</form>', '<button type="submit" name="logout" value="yes">Sign out</button></form>')}
</body></html>`;
}

// Shown after a logout without post_logout_redirect_uri (the default page pulls a web font).
async function postLogoutSuccessSource(ctx) {
  ctx.body = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Signed out</title></head>'
    + '<body><h1>Signed out</h1></body></html>';
}

function loginForm(res, uid, status = 200, error = '') {
  page(res, status, 'Sluice dev sign-in', `${error && `<p>${esc(error)}</p>`}
<form method="post" action="${esc(prefix)}/interaction/${esc(uid)}/login">
<label>Login <input name="login" autofocus></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form>
<p>Users: ann, bob, carol, dave, unverified (or any other name); any password works.</p>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return page(res, 400, 'Interaction mismatch', '');
  const { prompt, params, session, grantId } = details;

  if (req.method === 'GET' && !action) {
    if (prompt.name === 'login') return loginForm(res, uid);
    // Only reached when the client explicitly asks for prompt=consent: grant it without asking.
    const grant = (grantId && await provider.Grant.find(grantId))
      || new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const consent = { grantId: await grant.save() };
    return provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
  }

  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const accountId = accountIdFor(form.get('login') ?? '');
    if (!accountId) return loginForm(res, uid, 400, 'Enter a login name such as "ann".');
    return provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
  }

  return page(res, 405, 'Method not allowed', '');
}

const oidc = provider.callback();

// The library keeps userinfo's sub true to the account, so the fault of a broken provider
// (userinfo about another person than the ID token) is made here: impostor's answer
// names ann.
function answerUserinfoAsABrokenProviderWouldForImpostor(res) {
  const end = res.end.bind(res);
  res.end = (chunk, ...rest) => {
    if (chunk && !res.headersSent) {
      try {
        const body = JSON.parse(chunk.toString());
        if (body.sub === 'user-impostor') {
          chunk = JSON.stringify({ ...body, sub: 'user-ann' });
          res.setHeader('content-length', Buffer.byteLength(chunk));
        }
      } catch {
        // not JSON: leave it
      }
    }
    return end(chunk, ...rest);
  };
}

const server = createServer(async (req, res) => {
  const started = Date.now();
  res.on('finish', () => {
    console.log(`${req.method} ${req.url.split('?')[0]} ${res.statusCode} ${Date.now() - started}ms`);
  });
  // Under a path issuer, the provider sees paths below it (as when mounted there).
  if (prefix) {
    if (!req.url.startsWith(`${prefix}/`)) return page(res, 404, 'Not found', '');
    req.originalUrl = req.url;
    req.url = req.url.slice(prefix.length);
  }
  if (req.url.startsWith('/me')) answerUserinfoAsABrokenProviderWouldForImpostor(res);
  const m = /^\/interaction\/([\w-]+)(?:\/(login))?\/?(?:\?.*)?$/.exec(req.url);
  if (!m) return oidc(req, res);
  try {
    await interaction(req, res, m[1], m[2]);
  } catch (err) {
    // Typically an expired/unknown interaction or a missing idp_interaction cookie.
    const why = [err.message, err.error_description].filter(Boolean).join(': ');
    console.log(`  interaction.error: ${why}`);
    page(res, 400, 'Sign-in failed', `<p>${esc(why)}</p>`);
  }
});

server.listen(port, host, () => {
  console.log('!!! DEV IDENTITY PROVIDER: ANY PASSWORD IS ACCEPTED. NEVER USE OUTSIDE DEVELOPMENT. !!!');
  console.log(`dev-idp issuer=${issuer} listening=${host}:${port} signing kid=${keys[0].kid}`
    + ` published kids=${keys.map((k) => k.kid).join(',')}`);
});
