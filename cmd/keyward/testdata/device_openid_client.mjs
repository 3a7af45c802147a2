// device_openid_client.mjs runs the device authorization grant (RFC 8628)
// with openid-client (npm), as a device written in JavaScript would:
// discovery, initiateDeviceAuthorization, then pollDeviceAuthorizationGrant,
// which also validates the ID token. TestE2EDeviceGrantOpenIDClient runs
// it beside a node_modules holding openid-client and drives the
// verification page while it polls.
//
// env:    KEYWARD_ISSUER, KEYWARD_CLIENT_ID (a public client), KEYWARD_SCOPE
// stdout: one JSON line {"device": <the device authorization response>},
//         then one line {"tokens": {...}, "claims": {...}} or
//         {"error": "<code>", "message": "..."}
import * as client from "openid-client";

const config = await client.discovery(
  new URL(process.env.KEYWARD_ISSUER),
  process.env.KEYWARD_CLIENT_ID,
  undefined,
  client.None(),
  { execute: [client.allowInsecureRequests] }, // the test server is plain http on loopback
);
const device = await client.initiateDeviceAuthorization(config, { scope: process.env.KEYWARD_SCOPE });
process.stdout.write(JSON.stringify({ device }) + "\n");
try {
  const tokens = await client.pollDeviceAuthorizationGrant(config, device);
  process.stdout.write(JSON.stringify({ tokens, claims: tokens.claims() }) + "\n");
} catch (e) {
  process.stdout.write(JSON.stringify({ error: e.error ?? e.code ?? e.name, message: e.message }) + "\n");
}
