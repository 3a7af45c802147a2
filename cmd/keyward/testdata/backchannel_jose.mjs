// Verifies logout tokens with the npm package jose, an implementation
// independent of Keyward's, as a relying party would (OpenID Connect
// Back-Channel Logout 1.0 §2.6): the signature against the issuer's JWKS,
// iss, aud, typ logout+jwt, iat, and the checks on events, sub/sid and
// nonce. Environment: JOSE (the path of jose's index.js), JWKS_URI,
// ISSUER, AUDIENCE; each line of standard input is a token; each answer
// is one JSON line: {"payload", "header"} or {"error"}.
import { pathToFileURL } from "node:url";
import { createInterface } from "node:readline";

const jose = await import(pathToFileURL(process.env.JOSE).href);
const jwks = jose.createRemoteJWKSet(new URL(process.env.JWKS_URI));
const event = "http://schemas.openid.net/event/backchannel-logout";

for await (const line of createInterface({ input: process.stdin })) {
  const token = line.trim();
  if (!token) continue;
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, {
      issuer: process.env.ISSUER,
      audience: process.env.AUDIENCE,
      typ: "logout+jwt",
      requiredClaims: ["iat", "exp", "jti", "events"],
      maxTokenAge: "2m",
    });
    if (typeof payload.events !== "object" || typeof payload.events[event] !== "object") {
      throw new Error("events lacks " + event);
    }
    if (!payload.sub && !payload.sid) throw new Error("neither sub nor sid");
    if ("nonce" in payload) throw new Error("a logout token must not carry a nonce");
    console.log(JSON.stringify({ payload, header: protectedHeader }));
  } catch (e) {
    console.log(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
  }
}
