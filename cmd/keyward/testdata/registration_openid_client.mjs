// registration_openid_client.mjs registers clients with openid-client
// (npm) through Dynamic Client Registration (RFC 7591), as a JavaScript
// application would, then uses them: a confidential client runs the
// client credentials grant, a public one the authorization code grant
// with PKCE (openid-client validates the callback, iss and the ID token).
// TestE2ERegistrationOpenIDClient runs it beside a node_modules holding
// openid-client and drives the browser between its lines.
//
// env:    KEYWARD_ISSUER, KEYWARD_INITIAL_TOKEN, KEYWARD_REDIRECT_URI
// stdout: {"registered": <client metadata>, "tokens": {...}}
//         {"registered": <client metadata>, "authorization_url": "..."}
//         then, after a callback URL line on stdin,
//         {"tokens": {...}, "claims": {...}}
//         or, at any point, {"error": "<code>", "message": "..."}
import * as client from "openid-client";
import * as readline from "node:readline";

const issuer = new URL(process.env.KEYWARD_ISSUER);
const options = {
  initialAccessToken: process.env.KEYWARD_INITIAL_TOKEN,
  execute: [client.allowInsecureRequests], // the test server is plain http on loopback
};
const out = (v) => process.stdout.write(JSON.stringify(v) + "\n");

try {
  const batch = await client.dynamicClientRegistration(issuer, {
    client_name: "openid-client batch",
    grant_types: ["client_credentials"],
    token_endpoint_auth_method: "client_secret_post",
    scope: "export",
  }, undefined, options);
  const tokens = await client.clientCredentialsGrant(batch, { scope: "export" });
  out({ registered: batch.clientMetadata(), tokens });

  const redirectURI = process.env.KEYWARD_REDIRECT_URI;
  const app = await client.dynamicClientRegistration(issuer, {
    client_name: "openid-client app",
    redirect_uris: [redirectURI],
    response_types: ["code"],
    grant_types: ["authorization_code", "refresh_token"],
    token_endpoint_auth_method: "none",
    scope: "openid profile email",
  }, client.None(), options);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(app, {
    redirect_uri: redirectURI,
    scope: "openid profile",
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  out({ registered: app.clientMetadata(), authorization_url: url.href });

  const rl = readline.createInterface({ input: process.stdin });
  const callback = await new Promise((resolve) => rl.once("line", resolve));
  rl.close();
  const appTokens = await client.authorizationCodeGrant(app, new URL(callback), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  out({ tokens: appTokens, claims: appTokens.claims() });
} catch (e) {
  out({ error: e.error ?? e.code ?? e.name, message: e.message });
}
