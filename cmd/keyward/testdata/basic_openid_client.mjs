// basic_openid_client.mjs runs the machine-to-machine path with
// independent libraries, as a backend service and a resource server
// written in JavaScript would: openid-client (npm) gets a client
// credentials token with client_secret_basic (RFC 6749 §2.3.1), jose
// verifies the ES256 JWT access token against the JWKS (RFC 9068), and a
// resource server introspects it with openid-client (RFC 7662), then
// revokes it (RFC 7009) and introspects it again. A wrong secret is
// refused. TestE2EClientSecretBasicOpenIDClient runs it.
//
// env:    ISSUER, CLIENT_ID, CLIENT_SECRET, RS_ID, RS_SECRET, SCOPE
// stdout: {"tokens": [...], "verified": [...], "introspected": {...},
//          "wrong_secret": {...}, "after_revocation": {...}}
//         or {"error": "<code>", "message": "..."}
import * as client from "openid-client";
import * as jose from "jose";

const env = process.env;
const issuer = new URL(env.ISSUER);
const insecure = { execute: [client.allowInsecureRequests] }; // plain http on loopback
const out = (v) => process.stdout.write(JSON.stringify(v) + "\n");
const failure = (e) => ({ error: e.error ?? e.code ?? e.name, status: e.status, message: e.message });

try {
  const svc = await client.discovery(issuer, env.CLIENT_ID, undefined, client.ClientSecretBasic(env.CLIENT_SECRET), insecure);
  const rs = await client.discovery(issuer, env.RS_ID, undefined, client.ClientSecretBasic(env.RS_SECRET), insecure);
  const jwks = jose.createRemoteJWKSet(new URL(svc.serverMetadata().jwks_uri));

  // Two tokens: each must verify on its own (the signatures differ with
  // every payload).
  const tokens = [];
  const verified = [];
  for (let i = 0; i < 2; i++) {
    const t = await client.clientCredentialsGrant(svc, { scope: env.SCOPE });
    tokens.push(t);
    const { payload, protectedHeader } = await jose.jwtVerify(t.access_token, jwks, {
      issuer: svc.serverMetadata().issuer,
      typ: "at+jwt",
      algorithms: ["ES256"],
    });
    verified.push({ payload, header: protectedHeader });
  }
  const introspected = await client.tokenIntrospection(rs, tokens[0].access_token);

  let wrongSecret;
  try {
    const bad = await client.discovery(issuer, env.CLIENT_ID, undefined, client.ClientSecretBasic(env.CLIENT_SECRET + "x"), insecure);
    await client.clientCredentialsGrant(bad, { scope: env.SCOPE });
    wrongSecret = { error: "none" };
  } catch (e) {
    // A 401 with a WWW-Authenticate challenge comes as a challenge error
    // whose response still holds the RFC 6749 §5.2 body.
    let body;
    try {
      body = await e.response?.json();
    } catch {}
    wrongSecret = { ...failure(e), body, challenges: e.cause };
  }

  await client.tokenRevocation(svc, tokens[0].access_token);
  const afterRevocation = await client.tokenIntrospection(rs, tokens[0].access_token);
  const other = await client.tokenIntrospection(rs, tokens[1].access_token);
  out({ tokens, verified, introspected, wrong_secret: wrongSecret, after_revocation: afterRevocation, other });
} catch (e) {
  out(failure(e));
}
