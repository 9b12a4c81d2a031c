// An independent OpenID Connect provider on loopback for the officers' sign-in tests:
// panva's oidc-provider (certified OpenID Provider library), configured from one JSON
// object on stdin:
//   {"client_id", "client_secret", "redirect_uris": [...],
//    "accounts": {"<login>": {"email", "email_verified", "groups": [...]}}}
// It listens on 127.0.0.1 (a free port), prints {"issuer": "http://127.0.0.1:PORT"} on one
// line once it accepts connections, and runs until its stdin closes. Sign-in and consent go
// through its development interactions (a login form taking any password for a known login).
import { generateKeyPairSync } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";

import Provider from "oidc-provider";

const settings = JSON.parse(process.argv[2]);

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signing = { ...privateKey.export({ format: "jwk" }), kid: "provider-rs256", use: "sig", alg: "RS256" };

const server = createServer();
server.listen(0, "127.0.0.1");
await once(server, "listening");
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: settings.client_id,
      client_secret: settings.client_secret,
      redirect_uris: settings.redirect_uris,
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_basic",
      id_token_signed_response_alg: "RS256",
    },
  ],
  jwks: { keys: [signing] },
  scopes: ["openid", "email", "profile", "groups"],
  claims: { openid: ["sub"], email: ["email", "email_verified"], groups: ["groups"] },
  // the scopes' claims go into the id_token itself (the relying party reads no userinfo)
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const account = settings.accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
});
provider.on("server_error", (ctx, error) => process.stderr.write(`${error.stack}\n`));

server.on("request", provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
