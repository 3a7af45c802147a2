// dpop_openid_client.mjs uses DPoP (RFC 9449) with openid-client (npm),
// as an application written in JavaScript would, through getDPoPHandle.
// TestE2EDPoPOpenIDClient runs it beside a node_modules holding
// openid-client.
//
// env: ISSUER, CLIENT_ID, CLIENT_SECRET (empty: a public client), MODE,
//      SCOPE, REDIRECT_URI, RESOURCE_URL (a resource server protected by
//      authz/verify's middleware).
//
// MODE=client_credentials: one token, then a call to RESOURCE_URL with it
// (and its proof). stdout: one JSON line with the results.
//
// MODE=code: a pushed authorization request with a DPoP proof (RFC 9449
// §10.1); prints {"authorization_url"}, reads the callback URL from stdin,
// redeems the code, calls UserInfo, tries the refresh token with another
// key and with no key (a thief's), refreshes with its own key, calls
// RESOURCE_URL, and tries the access token as a bearer token. stdout: one
// JSON line with the results.
import * as client from "openid-client";
import * as readline from "node:readline";

const env = process.env;
const insecure = { execute: [client.allowInsecureRequests] }; // plain http on loopback
const config = env.CLIENT_SECRET
  ? await client.discovery(new URL(env.ISSUER), env.CLIENT_ID, env.CLIENT_SECRET, undefined, insecure)
  : await client.discovery(new URL(env.ISSUER), env.CLIENT_ID, undefined, client.None(), insecure);
const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair());

// refused runs f and returns the error code it failed with, or "accepted".
async function refused(f) {
  try {
    await f();
    return "accepted";
  } catch (e) {
    if (Array.isArray(e.cause)) { // WWW-Authenticate challenges
      return e.cause.map((c) => `${c.scheme} ${c.parameters?.error}`).join(", ");
    }
    return e.error ?? e.code ?? e.name;
  }
}

async function callResource(token, options) {
  const resp = await client.fetchProtectedResource(config, token, new URL(env.RESOURCE_URL), "GET", undefined, undefined, options);
  return { status: resp.status, body: await resp.text(), www_authenticate: resp.headers.get("www-authenticate") };
}

const out = {};
try {
  if (env.MODE === "client_credentials") {
    const tokens = await client.clientCredentialsGrant(config, { scope: env.SCOPE }, { DPoP: dpop });
    out.token_type = tokens.token_type;
    out.access_token = tokens.access_token;
    out.resource = await callResource(tokens.access_token, { DPoP: dpop });
  } else {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: env.REDIRECT_URI, scope: env.SCOPE, state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
    }, { DPoP: dpop });
    process.stdout.write(JSON.stringify({ authorization_url: url.href }) + "\n");
    const rl = readline.createInterface({ input: process.stdin });
    const callback = await new Promise((resolve) => rl.once("line", resolve));
    rl.close();
    const tokens = await client.authorizationCodeGrant(config, new URL(callback),
      { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP: dpop });
    out.token_type = tokens.token_type;
    out.access_token = tokens.access_token;
    const sub = tokens.claims().sub;
    out.userinfo = await client.fetchUserInfo(config, tokens.access_token, sub, { DPoP: dpop });
    const thief = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    out.refresh_other_key = await refused(() => client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: thief }));
    out.refresh_no_key = await refused(() => client.refreshTokenGrant(config, tokens.refresh_token));
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: dpop });
    out.refreshed_token_type = refreshed.token_type;
    out.refreshed_access_token = refreshed.access_token;
    out.resource = await callResource(refreshed.access_token, { DPoP: dpop });
    out.userinfo_as_bearer = await refused(() => client.fetchUserInfo(config, refreshed.access_token, sub));
  }
} catch (e) {
  out.error = e.error ?? e.code ?? e.name;
  out.message = e.message;
}
process.stdout.write(JSON.stringify(out) + "\n");
