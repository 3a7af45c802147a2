// fapi2_openid_client.mjs runs openid-client (npm) as a FAPI 2.0 client
// would (FAPI 2.0 Security Profile): client.PrivateKeyJwt (RFC 7523, an
// ES256 key), a pushed authorization request (RFC 9126) with PKCE S256,
// DPoP (RFC 9449) through getDPoPHandle on every token request, UserInfo
// and a refresh. TestE2EFAPI2OpenIDClient runs it beside a node_modules
// holding openid-client.
//
// env: ISSUER, CLIENT_ID, JWK (the private JWK, with kid and alg),
//      REDIRECT_URI, SCOPE.
//
// It prints {"authorization_url"}, reads the callback URL from stdin,
// redeems the code, calls UserInfo, tries the refresh token without a
// DPoP proof and with a proof signed RS256 (both to be refused), then
// refreshes with its own key. stdout: one JSON line with the results.
import * as client from "openid-client";
import { importJWK } from "jose";
import * as readline from "node:readline";

const env = process.env;
const jwk = JSON.parse(env.JWK);
const key = { key: await importJWK(jwk, jwk.alg), kid: jwk.kid };
const config = await client.discovery(new URL(env.ISSUER), env.CLIENT_ID, undefined, client.PrivateKeyJwt(key),
  { execute: [client.allowInsecureRequests] }); // the test server is plain http on loopback
const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair("ES256"));

// refused runs f and returns the error code it failed with, or "accepted".
async function refused(f) {
  try {
    await f();
    return "accepted";
  } catch (e) {
    return e.error ?? e.code ?? e.name;
  }
}

const out = {};
try {
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
  out.id_token_alg = JSON.parse(Buffer.from(tokens.id_token.split(".")[0], "base64url")).alg;
  const sub = tokens.claims().sub;
  out.sub = sub;
  out.userinfo = await client.fetchUserInfo(config, tokens.access_token, sub, { DPoP: dpop });
  out.refresh_no_dpop = await refused(() => client.refreshTokenGrant(config, tokens.refresh_token));
  const rsa = client.getDPoPHandle(config, await client.randomDPoPKeyPair("RS256"));
  out.refresh_rs256_dpop = await refused(() => client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: rsa }));
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP: dpop });
  out.refreshed_token_type = refreshed.token_type;
  out.refreshed_access_token = refreshed.access_token;
  out.refreshed_userinfo = await client.fetchUserInfo(config, refreshed.access_token, sub, { DPoP: dpop });
} catch (e) {
  out.error = e.error ?? e.code ?? e.name;
  out.message = e.message;
}
process.stdout.write(JSON.stringify(out) + "\n");
