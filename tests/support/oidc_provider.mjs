// A real OpenID provider for the single sign-on tests: node-oidc-provider (the certified
// implementation) with one client, accounts the test sets, and two test-only doors:
//
//   POST /__control  {"accounts": {...}, "auto_login": "sub" | null, "tamper": "..." | null}
//     accounts:   sub -> {email, email_verified, name, groups}; read at every token and
//                 user-info request, so a test can change a person's groups between sign-ins.
//     auto_login: finish the provider's login and consent pages as this person at once.
//     tamper:     rewrite the next ID tokens as an attacker would: "audience", "nonce",
//                 "issuer", "expired" (re-signed with the provider's own key) or
//                 "signature" (signed with another key under the same key id).
//
// Environment: WECARE_OIDC_MODULES (the node_modules folder holding oidc-provider),
// CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, POST_LOGOUT_URI; PORT (default: a free one).
// It listens on loopback and prints "listening <port>" once it answers.
//
// ANYONE=1 (for trying wecare by hand, see the README): any login the provider's page is
// given is a person, with that login as a verified address if it has an @; a login that
// starts with "coordinator" is in the group wellbeing-coordinators.

import http from 'node:http';
import { pathToFileURL } from 'node:url';

const modules = pathToFileURL(process.env.WECARE_OIDC_MODULES + '/');
const { default: Provider } = await import(new URL('oidc-provider/lib/index.js', modules));
const jose = await import(new URL('jose/dist/webapi/index.js', modules));

const control = { accounts: {}, auto_login: null, tamper: null };

async function signingKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: 'test-key', alg: 'RS256', use: 'sig' };
}
const key = await signingKey();
const otherKey = await signingKey();

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(process.env.PORT || 0), '127.0.0.1', resolve));
const port = server.address().port;
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    post_logout_redirect_uris: [process.env.POST_LOGOUT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [key] },
  cookies: { keys: ['a key for the test provider only'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  async findAccount(ctx, sub) {
    if (!control.accounts[sub] && process.env.ANYONE === '1') {
      const email = sub.includes('@') ? sub : `${sub}@example.edu`;
      const name = email.split('@')[0].replace(/[._-]+/g, ' ');
      control.accounts[sub] = {
        email,
        email_verified: true,
        name: name.charAt(0).toUpperCase() + name.slice(1),
        groups: sub.startsWith('coordinator') ? ['wellbeing-coordinators'] : [],
      };
    }
    if (!control.accounts[sub]) return undefined;
    return {
      accountId: sub,
      async claims() {
        const a = control.accounts[sub] || {};
        return { sub, ...a };
      },
    };
  },
});

async function readJson(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body ? JSON.parse(body) : {};
}

async function tampered(idToken) {
  const payload = jose.decodeJwt(idToken);
  let signWith = key;
  switch (control.tamper) {
    case 'audience': payload.aud = 'another-client'; break;
    case 'nonce': payload.nonce = 'a-nonce-the-client-never-sent'; break;
    case 'issuer': payload.iss = 'http://127.0.0.1:1'; break;
    case 'expired': payload.exp = Math.floor(Date.now() / 1000) - 3600; payload.iat = payload.exp - 60; break;
    case 'signature': signWith = otherKey; break;
    default: return idToken;
  }
  const privateKey = await jose.importJWK(signWith, 'RS256');
  return new jose.SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'JWT' })
    .sign(privateKey);
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/__control' && ctx.method === 'POST') {
    Object.assign(control, await readJson(ctx.req));
    ctx.body = { ok: true };
    return;
  }
  const interaction = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (interaction && ctx.method === 'GET' && control.auto_login) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params, session } = details;
    let result;
    if (prompt.name === 'login') {
      result = { login: { accountId: control.auto_login } };
    } else {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      result = { consent: { grantId: await grant.save() } };
    }
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    ctx.status = 303;
    ctx.redirect(to);
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.body && ctx.body.id_token && control.tamper) {
    ctx.body = { ...ctx.body, id_token: await tampered(ctx.body.id_token) };
  }
});

server.on('request', provider.callback());
console.log(`listening ${port}`);
