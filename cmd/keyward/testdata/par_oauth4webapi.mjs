// par_oauth4webapi.mjs is a relying party written with oauth4webapi (npm),
// for TestE2EPAROauth4webapi: it discovers the server, pushes an
// authorization request (RFC 9126) with PKCE and a nonce, prints the
// authorization URL, reads back the URL the browser was redirected to,
// validates that response (state, iss) and redeems the code, validating
// the token response and the ID token as the library does.
//
// env:    OAUTH4WEBAPI (the package's build/index.js), ISSUER, CLIENT_ID,
//         CLIENT_SECRET ("" for a public client), REDIRECT_URI, SCOPE
// stdout: {"authorization_url": …, "request_uri": …, "expires_in": …},
//         then {"access_token": …, "token_type": …, "scope": …,
//         "sub": …, "nonce_ok": true} or {"error": "<name>: <message>"}
// stdin:  the callback URL, one line
import { pathToFileURL } from "node:url";
import { createInterface } from "node:readline";

const oauth = await import(pathToFileURL(process.env.OAUTH4WEBAPI).href);
const insecure = { [oauth.allowInsecureRequests]: true }; // http on loopback
const say = (v) => process.stdout.write(JSON.stringify(v) + "\n");

try {
  const issuer = new URL(process.env.ISSUER);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: "oidc" }));
  const client = { client_id: process.env.CLIENT_ID };
  const auth = process.env.CLIENT_SECRET ? oauth.ClientSecretBasic(process.env.CLIENT_SECRET) : oauth.None();
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const params = new URLSearchParams({
    response_type: "code", redirect_uri: process.env.REDIRECT_URI, scope: process.env.SCOPE, state, nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  });
  const par = await oauth.processPushedAuthorizationResponse(as, client,
    await oauth.pushedAuthorizationRequest(as, client, auth, params, insecure));
  const authURL = new URL(as.authorization_endpoint);
  authURL.searchParams.set("client_id", client.client_id);
  authURL.searchParams.set("request_uri", par.request_uri);
  say({ authorization_url: authURL.href, request_uri: par.request_uri, expires_in: par.expires_in });

  const lines = createInterface({ input: process.stdin });
  const callback = new URL((await lines[Symbol.asyncIterator]().next()).value);
  lines.close();
  const answer = oauth.validateAuthResponse(as, client, callback, state);
  const tokens = await oauth.processAuthorizationCodeResponse(as, client,
    await oauth.authorizationCodeGrantRequest(as, client, auth, answer, process.env.REDIRECT_URI, verifier, insecure),
    { expectedNonce: nonce, requireIdToken: true });
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  say({ access_token: tokens.access_token, token_type: tokens.token_type, scope: tokens.scope, sub: claims.sub,
    nonce_ok: claims.nonce === nonce });
} catch (e) {
  say({ error: `${e.name}: ${e.message}${e.cause ? " (" + JSON.stringify(e.cause) + ")" : ""}` });
}
