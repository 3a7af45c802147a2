// verify.js checks webhook deliveries with the official Standard Webhooks
// library for JavaScript (npm "standardwebhooks"), as a receiver would.
// webhookstest.Official runs it with NODE_PATH pointing at that package.
//
// stdin:  a JSON array of {"secret": "whsec_…", "headers": {name: value},
//         "body": "<the raw body, base64>"}
// stdout: a JSON array, in the same order, of {"ok": true} or
//         {"ok": false, "error": "<name>: <message>"}
"use strict";

const { Webhook } = require("standardwebhooks");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  input += chunk;
});
process.stdin.on("end", () => {
  const results = JSON.parse(input).map((d) => {
    try {
      new Webhook(d.secret).verify(Buffer.from(d.body, "base64"), d.headers);
      return { ok: true };
    } catch (e) {
      return { ok: false, error: `${e.name}: ${e.message}` };
    }
  });
  process.stdout.write(JSON.stringify(results) + "\n");
});
