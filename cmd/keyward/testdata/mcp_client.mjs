// The MCP client of TestE2EMCP: the official MCP TypeScript SDK
// (@modelcontextprotocol/sdk) connects to an MCP server knowing nothing
// but its URL (SERVER_URL). The SDK's OAuth support discovers the
// protected resource metadata (RFC 9728) and the authorization server's
// metadata (RFC 8414), registers — with a Client ID Metadata Document when
// CLIENT_METADATA_URL is set, by dynamic registration (RFC 7591) otherwise
// — and sends the user to the authorization endpoint with PKCE and
// resource (RFC 8707). This script prints that URL as a JSON line, reads
// the callback URL the test's browser ended on from stdin, lets the SDK
// exchange the code, then lists the tools and calls "whoami", printing the
// result as a second JSON line. Any failure is printed as {"error": "…"}.
// With ACCESS_TOKEN and CLIENT_ID it starts from that client and token
// instead, as an agent that needs more scope than it holds (step-up).
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const env = process.env;
const sdk = (p) => import(pathToFileURL(join(env.MCP_SDK, '@modelcontextprotocol', 'sdk', 'dist', 'esm', p)).href);
const print = (v) => process.stdout.write(JSON.stringify(v) + '\n');
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

try {
  const { Client } = await sdk('client/index.js');
  const { StreamableHTTPClientTransport } = await sdk('client/streamableHttp.js');
  const { UnauthorizedError } = await sdk('client/auth.js');

  // An in-memory OAuthClientProvider: one session of one user.
  const saved = {};
  const provider = {
    get redirectUrl() { return env.REDIRECT_URI; },
    clientMetadataUrl: env.CLIENT_METADATA_URL || undefined,
    get clientMetadata() {
      return {
        client_name: 'Keyward e2e agent',
        redirect_uris: [env.REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      };
    },
    clientInformation() { return saved.client; },
    saveClientInformation(c) { saved.client = c; },
    tokens() { return saved.tokens; },
    saveTokens(t) { saved.tokens = t; },
    redirectToAuthorization(url) { saved.authURL = url.href; print({ authorization_url: url.href }); },
    saveCodeVerifier(v) { saved.verifier = v; },
    codeVerifier() { return saved.verifier; },
  };
  if (env.ACCESS_TOKEN) {
    // Step-up: start with a client and a token that lacks a scope; the
    // server's 403 insufficient_scope names it and the SDK asks again.
    saved.client = { client_id: env.CLIENT_ID };
    saved.tokens = { access_token: env.ACCESS_TOKEN, token_type: 'Bearer' };
  }
  const server = new URL(env.SERVER_URL);
  // The MCP server's answers, in order, so the test sees the 401 or 403
  // the SDK started from.
  const statuses = [];
  const fetchMCP = async (url, init) => {
    const resp = await fetch(url, init);
    if (String(url) === server.href) statuses.push(resp.status);
    return resp;
  };
  const newClient = () => new Client({ name: 'keyward-e2e', version: '1.0.0' });

  // First attempt: 401 with resource_metadata, discovery, registration,
  // then the SDK hands the authorization URL to redirectToAuthorization.
  let transport = new StreamableHTTPClientTransport(server, { authProvider: provider, fetch: fetchMCP });
  try {
    await newClient().connect(transport);
    throw new Error('connected without authorization');
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  if (!saved.authURL) throw new Error('the SDK did not start an authorization');
  const { value: line } = await lines.next();
  const callback = new URL(line.trim());
  if (callback.searchParams.get('error')) throw new Error('authorization failed: ' + callback.search);
  await transport.finishAuth(callback.searchParams.get('code'));

  // Second attempt with the token.
  transport = new StreamableHTTPClientTransport(server, { authProvider: provider, fetch: fetchMCP });
  const client = newClient();
  await client.connect(transport);
  const { tools } = await client.listTools();
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  await client.close();
  print({
    client_id: saved.client.client_id,
    tools: tools.map((t) => t.name),
    result: result.structuredContent ?? null,
    is_error: result.isError ?? false,
    access_token: saved.tokens.access_token,
    scope: saved.tokens.scope ?? '',
    statuses,
  });
} catch (e) {
  print({ error: String(e && e.stack || e) });
}
process.exit(0);
