// privatekeyjwt_openid_client.mjs runs openid-client (npm) as a
// confidential client that authenticates with private_key_jwt (RFC 7523)
// and signs its authorization requests (RFC 9101), as an application
// written in JavaScript would. TestE2EPrivateKeyJWTOpenIDClient runs it
// twice beside a node_modules holding openid-client:
//
// KEYWARD_STEP=start: discovery with client.PrivateKeyJwt, a
//   client_credentials grant, then buildAuthorizationUrlWithJAR. stdout:
//   {"cc": <token response> | "error": …, "url": "…", "verifier": "…",
//    "state": "…", "nonce": "…"}
// KEYWARD_STEP=finish: authorizationCodeGrant with KEYWARD_CALLBACK and the
//   values of the first step (ID token validated by openid-client). stdout:
//   {"tokens": {...}, "claims": {...}} or {"error": "…", "message": "…"}
//
// env: KEYWARD_ISSUER, KEYWARD_CLIENT_ID, KEYWARD_JWK (the private JWK, with
//      kid and alg), KEYWARD_REDIRECT_URI, KEYWARD_SCOPE
import * as client from "openid-client";
import { importJWK } from "jose";

const env = process.env;
const jwk = JSON.parse(env.KEYWARD_JWK);
const key = { key: await importJWK(jwk, jwk.alg), kid: jwk.kid };
const config = await client.discovery(
  new URL(env.KEYWARD_ISSUER),
  env.KEYWARD_CLIENT_ID,
  undefined,
  client.PrivateKeyJwt(key),
  { execute: [client.allowInsecureRequests] }, // the test server is plain http on loopback
);
const out = (v) => process.stdout.write(JSON.stringify(v) + "\n");
const fail = (e) => ({ error: e.error ?? e.code ?? e.name, message: e.message });

if (env.KEYWARD_STEP === "start") {
  let cc;
  try {
    cc = await client.clientCredentialsGrant(config, { scope: "read" });
  } catch (e) {
    cc = fail(e);
  }
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = await client.buildAuthorizationUrlWithJAR(config, {
    redirect_uri: env.KEYWARD_REDIRECT_URI,
    scope: env.KEYWARD_SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  }, key);
  out({ cc, url: url.href, verifier, state, nonce });
} else {
  try {
    const tokens = await client.authorizationCodeGrant(config, new URL(env.KEYWARD_CALLBACK), {
      pkceCodeVerifier: env.KEYWARD_VERIFIER,
      expectedState: env.KEYWARD_STATE,
      expectedNonce: env.KEYWARD_NONCE,
    });
    out({ tokens, claims: tokens.claims() });
  } catch (e) {
    out(fail(e));
  }
}
