// opaque_openid_client.mjs introspects opaque access tokens with an
// independent library, as a resource server written in JavaScript would:
// openid-client (npm) gets two client-credentials tokens from a client
// that issues opaque ones, introspects the first twice (RFC 7662; the
// second answer comes from the server's cache), a forged copy of it (its
// signature with another key part) and an unknown token, revokes it
// (RFC 7009) and introspects it and the second token again.
// TestE2EOpaqueIntrospectionOpenIDClient runs it.
//
// env:    ISSUER, CLIENT_ID, CLIENT_SECRET, RS_ID, RS_SECRET, SCOPE
// stdout: {"tokens": [...], "first": {...}, "again": {...}, "forged": {...},
//          "unknown": {...}, "after_revocation": {...}, "other": {...}}
//         or {"error": "<code>", "message": "..."}
import * as client from "openid-client";

const env = process.env;
const issuer = new URL(env.ISSUER);
const insecure = { execute: [client.allowInsecureRequests] }; // plain http on loopback
const out = (v) => process.stdout.write(JSON.stringify(v) + "\n");

try {
  const svc = await client.discovery(issuer, env.CLIENT_ID, undefined, client.ClientSecretBasic(env.CLIENT_SECRET), insecure);
  const rs = await client.discovery(issuer, env.RS_ID, undefined, client.ClientSecretBasic(env.RS_SECRET), insecure);
  const tokens = [];
  for (let i = 0; i < 2; i++) {
    tokens.push(await client.clientCredentialsGrant(svc, { scope: env.SCOPE }));
  }
  const at = tokens[0].access_token;
  const first = await client.tokenIntrospection(rs, at);
  const again = await client.tokenIntrospection(rs, at);
  const dot = at.lastIndexOf(".");
  const prefix = "kw_at_";
  const forgedToken = prefix + "A".repeat(dot - prefix.length) + at.slice(dot);
  const forged = await client.tokenIntrospection(rs, forgedToken);
  const unknown = await client.tokenIntrospection(rs, prefix + "unknown.token");
  await client.tokenRevocation(svc, at);
  const afterRevocation = await client.tokenIntrospection(rs, at);
  const other = await client.tokenIntrospection(rs, tokens[1].access_token);
  out({ tokens, first, again, forged, unknown, after_revocation: afterRevocation, other });
} catch (e) {
  out({ error: e.error ?? e.code ?? e.name, message: e.message });
}
