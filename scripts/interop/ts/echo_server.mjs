// An MCP server on the official TypeScript SDK (@modelcontextprotocol/sdk, streamable HTTP,
// stateless) that accepts only mcpca Connect Descriptors, checked locally with jose against the
// authority's JWKS. The TypeScript recipe of docs/verifying-python-ts.md, run by
// scripts/interop/run.sh through the same checks as the Python server (mcp_sdk.py).
//
// One tool, `echo` ({text} -> the text). The SDK's auth hook is `requireBearerAuth({verifier})`:
// the verifier's `verifyAccessToken(token)` returns an AuthInfo or throws InvalidTokenError (401).
// The middleware reads `Authorization: Bearer` only; with `--header either` (the default) a small
// middleware in front of it also accepts the descriptor as `MCP-Connect: <jwt>` (DESIGN §3).
//
//   node echo_server.mjs --issuer URL --jwks-url URL [--server-id NAME] [--header either|authorization]
//
// Listens on a free loopback port and prints its endpoint URL (http://127.0.0.1:PORT/mcp) as the
// first line of stdout. SIGTERM stops it.
import { parseArgs } from "node:util";
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify } from "jose";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { requireBearerAuth } from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import { InvalidTokenError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import * as z from "zod/v4";

const { values: args } = parseArgs({
  options: {
    issuer: { type: "string" },
    "jwks-url": { type: "string" },
    "server-id": { type: "string" },
    header: { type: "string", default: "either" },
  },
});
if (!args.issuer || !args["jwks-url"] || !["either", "authorization"].includes(args.header)) {
  console.error("usage: echo_server.mjs --issuer URL --jwks-url URL [--server-id NAME] [--header either|authorization]");
  process.exit(2);
}

const MAX_DESCRIPTOR_BYTES = 8 * 1024;
const MAX_LIFETIME_SECONDS = 24 * 3600;
const FORBIDDEN_HEADERS = ["crit", "jku", "x5u", "jwk"];

// The key set, cached: fetched again after cacheMaxAge; an unknown kid refetches at most once per
// cooldownDuration (DESIGN §3 step 3). Past cacheMaxAge with the authority unreachable, jose
// fails the verification: keep cacheMaxAge above the outages you want to ride out.
function descriptorVerifier({ issuer, jwksUrl, audience, serverId }) {
  const jwks = createRemoteJWKSet(new URL(jwksUrl), {
    cacheMaxAge: 10 * 60 * 1000,
    cooldownDuration: 30 * 1000,
    timeoutDuration: 5 * 1000,
  });

  async function verify(token) {
    if (token.length > MAX_DESCRIPTOR_BYTES) throw new Error("descriptor larger than 8 KiB");
    const header = decodeProtectedHeader(token);
    if (!header.kid || FORBIDDEN_HEADERS.some((h) => h in header)) {
      throw new Error("no kid, or a crit/jku/x5u/jwk header");
    }
    const { payload } = await jwtVerify(token, jwks, {
      algorithms: ["EdDSA", "Ed25519"],
      typ: "at+jwt",
      issuer,
      audience: audience(),
      clockTolerance: 15,
      requiredClaims: ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"],
    });
    if (payload.exp - payload.iat > MAX_LIFETIME_SECONDS) throw new Error("lifetime above 24 h");
    if (serverId !== undefined && payload.mcp?.server?.id !== serverId) {
      throw new errors.JWTClaimValidationFailed("mcp.server.id is not this server", payload, "aud", "check_failed");
    }
    return payload;
  }

  return {
    // The SDK's OAuthTokenVerifier.
    async verifyAccessToken(token) {
      let claims;
      try {
        claims = await verify(token);
      } catch (e) {
        const code = refusalCode(e);
        console.error(`descriptor refused: ${code} (${e.code ?? e.name}: ${e.message})`);
        throw new InvalidTokenError(code);
      }
      return {
        token,
        clientId: claims.client_id ?? claims.sub,
        scopes: (claims.scope ?? "").split(" ").filter(Boolean),
        expiresAt: claims.exp,
        resource: new URL(claims.aud),
        extra: { iss: claims.iss, sub: claims.sub, jti: claims.jti, mcp: claims.mcp },
      };
    },
  };
}

// DESIGN §3's failure code for a refused descriptor.
function refusalCode(e) {
  if (e instanceof errors.JWTExpired) return "descriptor_expired";
  if (e instanceof errors.JWTClaimValidationFailed && e.claim === "aud") return "descriptor_wrong_audience";
  return "descriptor_invalid";
}

// A request with `MCP-Connect: <jwt>` and no Authorization header reaches requireBearerAuth as
// `Authorization: Bearer <jwt>`.
function mcpConnectHeader(req, _res, next) {
  const connect = req.headers["mcp-connect"];
  if (!req.headers.authorization && typeof connect === "string") {
    req.headers.authorization = `Bearer ${connect.trim()}`;
  }
  next();
}

function echoServer() {
  const server = new McpServer({ name: "mcpca-interop-echo-ts", version: "1.0.0" });
  server.registerTool(
    "echo",
    { description: "Return the text unchanged.", inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  return server;
}

const app = createMcpExpressApp({ host: "127.0.0.1" });
// Listen first: the endpoint URL (the audience every descriptor must name) includes the port.
const http = await new Promise((resolve) => {
  const s = app.listen(0, "127.0.0.1", () => resolve(s));
});
const endpoint = `http://127.0.0.1:${http.address().port}/mcp`;

const auth = requireBearerAuth({
  verifier: descriptorVerifier({
    issuer: args.issuer,
    jwksUrl: args["jwks-url"],
    audience: () => endpoint,
    serverId: args["server-id"],
  }),
  expectedResource: new URL(endpoint),
});
const guards = args.header === "either" ? [mcpConnectHeader, auth] : [auth];

app.post("/mcp", ...guards, async (req, res) => {
  // Stateless: a server and transport per request; the descriptor is checked on every request.
  const server = echoServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on("close", () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
for (const method of ["get", "delete"]) {
  app[method]("/mcp", ...guards, (_req, res) => {
    res.status(405).set("Allow", "POST").json({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null });
  });
}

process.stdout.write(`${endpoint}\n`);
process.on("SIGTERM", () => {
  http.close(() => process.exit(0));
  http.closeAllConnections();
});
