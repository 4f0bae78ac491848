// A real OpenID Connect provider for Swarmboard's tests, run by tests/oidc_provider.py.
//
// Built on oidc-provider (https://github.com/panva/node-oidc-provider, MIT licence, pinned in
// package.json). Only this file is ours: a login page that checks passwords from ACCOUNTS, no
// consent prompt, and an RP-initiated logout page that confirms itself.
//
// Configuration, from the environment or from one JSON argument {"port", "clients", "accounts"}:
//   PORT      port on 127.0.0.1; the issuer is http://127.0.0.1:PORT (0: any free port)
//   CLIENTS   JSON list of {client_id, client_secret, redirect_uris, post_logout_redirect_uris}
//             (any other client metadata passes through, e.g. "token_endpoint_auth_method":
//             "client_secret_post"; the default is client_secret_basic)
//   ACCOUNTS  JSON map login -> {password, email, name, groups: [...], email_verified?}
//   REQUIRE_PKCE  "0" (or "require_pkce": false) lets a client leave PKCE out; by default every
//             authorization request needs PKCE with S256
//   EXIT_WITH_STDIN  "1": exit when standard input closes (the test process that started it died)
//
// Pages a browser sees: /interaction/<uid> (the login form: inputs name="login" and
// name="password", a submit button) and /session/end (logout, submits itself by script).
// Prints "oidc-provider listening on http://127.0.0.1:PORT" once it serves.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const argument = process.argv[2] ? JSON.parse(process.argv[2]) : {};
const settings = {
  port: Number(argument.port ?? process.env.PORT ?? 0),
  clients: argument.clients ?? JSON.parse(process.env.CLIENTS ?? '[]'),
  accounts: argument.accounts ?? JSON.parse(process.env.ACCOUNTS ?? '{}'),
  requirePkce: argument.require_pkce ?? process.env.REQUIRE_PKCE !== '0',
};

// A fresh signing key per process, so that two providers never verify each other's tokens.
function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function escapeHtml(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>`;
}

function loginPage(uid, clientId, login = '', error = '') {
  return page('Sign in to the test OpenID provider', `
<p>Client: <code>${escapeHtml(clientId)}</code></p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}">
  <label>Login <input name="login" id="login" value="${escapeHtml(login)}" autofocus></label>
  <label>Password <input name="password" id="password" type="password"></label>
  <button type="submit" id="sign-in">Sign in</button>
</form>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

function accountClaims(login, account) {
  return {
    sub: login,
    email: account.email,
    email_verified: account.email_verified ?? true,
    name: account.name,
    preferred_username: login,
    groups: account.groups ?? [],
  };
}

function configuration() {
  return {
    clients: settings.clients.map((client) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      post_logout_redirect_uris: [],
      ...client,
    })),
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomUUID()] }, // over plain http the cookies go without "Secure"
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    // Put every claim of the granted scopes in the ID token, not only in userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => settings.requirePkce },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        // The confirmation form submits itself with logout=yes (a full sign-out).
        async logoutSource(ctx, form) {
          ctx.body = page('Signing out', `${form}
<input type="hidden" name="logout" value="yes" form="op.logoutForm">
<button type="submit" form="op.logoutForm" id="sign-out">Sign out</button>
<script>document.getElementById('op.logoutForm').submit();</script>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = page('Signed out', '<p>You are signed out of the test OpenID provider.</p>');
        },
      },
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', Object.entries(out)
        .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`)
        .join('\n'));
    },
    async findAccount(ctx, login) {
      const account = settings.accounts[login];
      if (!account) return undefined;
      return { accountId: login, claims: async () => accountClaims(login, account) };
    },
    // No consent prompt: every client is granted the scopes it asks for.
    async loadExistingGrant(ctx) {
      const { Grant } = ctx.oidc.provider;
      const clientId = ctx.oidc.client.clientId;
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(clientId);
      const grant = (grantId && await Grant.find(grantId))
        || new Grant({ clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
      await grant.save();
      return grant;
    },
    ttl: {
      AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 3600, Session: 86400, Grant: 86400,
    },
  };
}

if (process.env.EXIT_WITH_STDIN === '1') {
  process.stdin.on('end', () => process.exit(0)).resume();
}

let handle = (req, res) => { res.statusCode = 503; res.end(); }; // until the provider exists
const server = createServer((req, res) => handle(req, res));
server.listen(settings.port, '127.0.0.1', async () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration());
  // oidc-provider checks client metadata on first use: check it now, so a bad CLIENTS stops here.
  for (const { client_id: clientId } of settings.clients) {
    try {
      await provider.Client.find(clientId);
    } catch (error) {
      console.error(`client ${clientId}: ${error.message} ${error.error_description ?? ''}`);
      process.exit(1);
    }
  }

  // The login page: GET shows the form, POST checks the password from ACCOUNTS.
  provider.use(async (ctx, next) => {
    const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
    if (!match) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const clientId = details.params.client_id;
    if (ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = loginPage(details.uid, clientId);
      return undefined;
    }
    if (ctx.method !== 'POST') return next();
    const form = await readForm(ctx.req);
    const login = form.get('login') ?? '';
    const account = settings.accounts[login];
    if (!account || account.password !== form.get('password')) {
      ctx.type = 'html';
      ctx.body = loginPage(details.uid, clientId, login, 'Wrong login or password.');
      return undefined;
    }
    const returnTo = await provider.interactionResult(
      ctx.req, ctx.res, { login: { accountId: login } }, { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(returnTo);
    return undefined;
  });

  handle = provider.callback();
  console.log(`oidc-provider listening on ${issuer}`);
});
