// Independent OpenID4VP 1.0 holder: @openid4vc/openid4vp reads and verifies the verifier's
// signed request object (JAR by value; client id prefix decentralized_identifier, did:key
// resolved here) and builds the authorization response; @sd-jwt/core presents the held
// SD-JWT with a key-binding JWT for the request's nonce and client id.
// stdin: {"link", "requestObject", "credential", "frame", "holderJwk" (private), "holderAlg", "now"}
// stdout: {"form": {vp_token, state}, "clientId", "dcql", "version"} | {"error"}
import { createHash, createPrivateKey, randomBytes, sign } from "node:crypto";
import { Openid4vpClient } from "@openid4vc/openid4vp";
import { SDJwtInstance } from "@sd-jwt/core";
import { compactVerify, importJWK } from "jose";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
}));

const hasher = (data, alg) => {
  if (alg !== "sha-256") throw new Error(`unsupported _sd_alg ${alg}`);
  return new Uint8Array(createHash("sha256").update(data).digest());
};

// base58btc (the did:key multibase), decoded here rather than by a transitive dependency
const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const base58Decode = (text) => {
  let value = 0n;
  for (const char of text) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) throw new Error("not base58btc");
    value = value * 58n + BigInt(digit);
  }
  const bytes = [];
  for (; value > 0n; value >>= 8n) bytes.unshift(Number(value & 0xffn));
  for (const char of text) { if (char !== "1") break; bytes.unshift(0); }
  return Uint8Array.from(bytes);
};

// did:key with an Ed25519 key (multicodec 0xed01): the DID method's own resolution
const jwkOfDidKey = (didUrl) => {
  const id = didUrl.split("#")[0].slice("did:key:".length);
  if (!id.startsWith("z6Mk")) throw new Error(`not an Ed25519 did:key: ${didUrl}`);
  const bytes = base58Decode(id.slice(1));
  if (bytes[0] !== 0xed || bytes[1] !== 0x01 || bytes.length !== 34) throw new Error("bad did:key");
  return { kty: "OKP", crv: "Ed25519", x: Buffer.from(bytes.slice(2)).toString("base64url") };
};

const callbacks = {
  hash: (data, alg) => new Uint8Array(createHash(alg.replace("-", "").toLowerCase()).update(data).digest()),
  generateRandom: (n) => new Uint8Array(randomBytes(n)),
  fetch: () => { throw new Error("nothing is fetched: the request object is passed by value"); },
  verifyJwt: async (signer, { compact }) => {
    if (signer.method !== "did") return { verified: false };
    const jwk = jwkOfDidKey(signer.didUrl);
    try {
      await compactVerify(compact, await importJWK(jwk, "EdDSA"), { algorithms: ["EdDSA"] });
      return { verified: true, signerJwk: jwk };
    } catch {
      return { verified: false };
    }
  },
};

try {
  const client = new Openid4vpClient({ callbacks });
  const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: input.link });
  // the wallet would fetch request_uri; the test hands it the object fetched from the verifier
  const payload = { client_id: parsed.params.client_id, request: input.requestObject };
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: payload });
  const request = resolved.authorizationRequestPayload;
  const queryId = resolved.dcql.query.credentials[0].id;
  const sdjwt = new SDJwtInstance({
    hasher,
    hashAlg: "sha-256",
    kbSigner: (data) =>
      sign("sha256", Buffer.from(data), { key: createPrivateKey({ key: input.holderJwk, format: "jwk" }), dsaEncoding: "ieee-p1363" })
        .toString("base64url"),
    kbSignAlg: input.holderAlg,
  });
  const presentation = await sdjwt.present(input.credential, input.frame, {
    kb: { payload: { iat: input.now, aud: request.client_id, nonce: request.nonce } },
  });
  const response = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: { vp_token: { [queryId]: [presentation] } },
  });
  const form = {};
  for (const [name, value] of Object.entries(response.authorizationResponsePayload)) {
    form[name] = typeof value === "string" ? value : JSON.stringify(value);
  }
  process.stdout.write(JSON.stringify({
    form, clientId: resolved.client.clientId ?? request.client_id, prefix: resolved.client.prefix,
    version: resolved.version, dcql: resolved.dcql.query,
  }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String(error.stack || error) }));
}
