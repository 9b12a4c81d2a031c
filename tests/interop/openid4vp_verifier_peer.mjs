// Independent OpenID4VP 1.0 verifier: @openid4vc/openid4vp makes the signed request object
// (JAR by reference, client id prefix decentralized_identifier with a did:key, direct_post,
// a DCQL query) that vcred's wallet answers, then validates the wallet's response against it
// (state, the DCQL query's ids); @sd-jwt/core verifies the presented SD-JWT's key binding
// (nonce and audience) with the holder key its cnf names.
// stdin:  {"mode": "request", "privateJwk", "did", "requestUri", "responseUri", "dcql", "nonce", "state", "aud"?}
//      or {"mode": "response", "request" (the payload made), "form", "issuerJwk"}
// stdout: {"link", "requestObject", "request"} | {"presented", "kb"} | {"error"}
import { createHash, createPrivateKey, randomBytes, sign } from "node:crypto";
import { Openid4vpVerifier, validateOpenid4vpAuthorizationResponsePayload } from "@openid4vc/openid4vp";
import { SDJwtInstance } from "@sd-jwt/core";
import { compactVerify, importJWK } from "jose";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
}));

const b64url = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");

const callbacks = {
  hash: (data, alg) => new Uint8Array(createHash(alg.replace("-", "").toLowerCase()).update(data).digest()),
  generateRandom: (n) => new Uint8Array(randomBytes(n)),
  signJwt: async (signer, { header, payload }) => {
    if (signer.method !== "did") throw new Error("this verifier signs as its did:key");
    const key = createPrivateKey({ key: input.privateJwk, format: "jwk" });
    const input64 = `${b64url({ ...header, kid: signer.didUrl })}.${b64url(payload)}`;
    const signature = sign(null, Buffer.from(input64), key).toString("base64url");
    const { d, ...publicJwk } = input.privateJwk;
    return { jwt: `${input64}.${signature}`, signerJwk: publicJwk };
  },
};

try {
  if (input.mode === "request") {
    const verifier = new Openid4vpVerifier({ callbacks });
    const made = await verifier.createOpenId4vpAuthorizationRequest({
      authorizationRequestPayload: {
        response_type: "vp_token",
        client_id: `decentralized_identifier:${input.did}`,
        response_uri: input.responseUri,
        response_mode: "direct_post",
        nonce: input.nonce,
        state: input.state,
        dcql_query: input.dcql,
      },
      jar: {
        requestUri: input.requestUri,
        jwtSigner: { method: "did", didUrl: `${input.did}#${input.did.slice("did:key:".length)}`, alg: "EdDSA" },
        expiresInSeconds: 300,
        // OpenID4VP 1.0 §5.8's aud when given; else the library's own (the request URI)
        ...(input.aud ? { additionalJwtPayload: { aud: input.aud } } : {}),
      },
    });
    process.stdout.write(JSON.stringify({
      link: made.authorizationRequest,
      requestObject: made.jar.authorizationRequestJwt,
      request: made.authorizationRequestPayload ?? made.jar.requestObjectJwt,
    }));
  } else {
    const payload = { ...input.form, vp_token: JSON.parse(input.form.vp_token) };
    const validated = validateOpenid4vpAuthorizationResponsePayload({
      authorizationRequestPayload: input.request,
      authorizationResponsePayload: payload,
    });
    const [queryId] = Object.keys(payload.vp_token);
    const [presentation] = payload.vp_token[queryId];
    const sdjwt = new SDJwtInstance({
      hasher: (data, alg) => new Uint8Array(createHash("sha256").update(data).digest()),
      verifier: async (data, signature) => {
        const jwk = input.issuerJwk;
        const alg = jwk.kty === "OKP" ? "EdDSA" : "ES256";
        const token = `${data}.${signature}`;
        try { await compactVerify(token, await importJWK(jwk, alg)); return true; } catch { return false; }
      },
      kbVerifier: async (data, signature, payload) => {
        const cnf = payload.cnf.jwk;
        try { await compactVerify(`${data}.${signature}`, await importJWK(cnf, "ES256")); return true; } catch { return false; }
      },
    });
    const verified = await sdjwt.verify(presentation, { keyBindingNonce: input.request.nonce, requireKeyBindings: true });
    process.stdout.write(JSON.stringify({
      presented: queryId,
      validatedType: validated.type,
      kb: verified.kb?.payload ?? null,
      claims: Object.keys(verified.payload),
    }));
  }
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String(error.stack || error) }));
}
