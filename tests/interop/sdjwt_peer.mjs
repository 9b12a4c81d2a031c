// Independent SD-JWT peer (@sd-jwt/core, hasher and signatures from node:crypto).
// stdin:
//   {"action": "verify", "token", "issuerJwk", "alg", "nonce", "aud", "now"}
//       verifies the issuer signature, the disclosures and (with a nonce) the key binding,
//       whose key is the credential's cnf.jwk; answers the claims it reconstructed.
//   {"action": "issue", "claims", "frame", "issuerJwk" (private), "alg", "kid",
//    "holderJwk" (private), "holderAlg", "presentation", "nonce", "aud", "iat"}
//       issues an SD-JWT (typ vc+sd-jwt, decoys from the frame's _sd_decoy) and presents it
//       with the presentation frame and a key-binding JWT.
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify } from "node:crypto";
import { SDJwtInstance } from "@sd-jwt/core";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
}));

const HASH_FOR_ALG = { EdDSA: null, ES256: "sha256", ES384: "sha384" };
const HASH_FOR_SD_ALG = { "sha-256": "sha256", "sha-384": "sha384", "sha-512": "sha512" };

const hasher = (data, alg) => {
  const name = HASH_FOR_SD_ALG[alg];
  if (!name) throw new Error(`unsupported _sd_alg ${alg}`);
  return new Uint8Array(createHash(name).update(data).digest());
};

const publicKey = (jwk) => {
  const { kty, crv, x, y } = jwk; // only the key members: a cnf.jwk may carry a kid
  return createPublicKey({ key: y ? { kty, crv, x, y } : { kty, crv, x }, format: "jwk" });
};

const verifierFor = (jwk, alg) => (data, signature) =>
  verify(HASH_FOR_ALG[alg], Buffer.from(data), { key: publicKey(jwk), dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url"));

const signerFor = (jwk, alg) => {
  const key = createPrivateKey({ key: jwk, format: "jwk" });
  return (data) =>
    sign(HASH_FOR_ALG[alg], Buffer.from(data), { key, dsaEncoding: "ieee-p1363" }).toString("base64url");
};

const ALG_FOR_JWK = (jwk) => (jwk.crv === "Ed25519" ? "EdDSA" : jwk.crv === "P-256" ? "ES256" : "ES384");

let output;
if (input.action === "verify") {
  const sdjwt = new SDJwtInstance({
    hasher,
    verifier: verifierFor(input.issuerJwk, input.alg),
    kbVerifier: (data, signature, payload) =>
      verifierFor(payload.cnf.jwk, ALG_FOR_JWK(payload.cnf.jwk))(data, signature),
  });
  try {
    const result = await sdjwt.verify(input.token, {
      keyBindingNonce: input.nonce ?? undefined,
      currentDate: input.now,
    });
    if (input.aud !== undefined && result.kb?.payload.aud !== input.aud) {
      throw new Error(`aud ${result.kb?.payload.aud} is not ${input.aud}`);
    }
    output = { verified: true, header: result.header, payload: result.payload, kb: result.kb ?? null };
  } catch (error) {
    output = { verified: false, error: String(error.message || error) };
  }
} else {
  const sdjwt = new SDJwtInstance({
    hasher,
    hashAlg: "sha-256",
    saltGenerator: (length) => randomBytes(length).toString("base64url"),
    signer: signerFor(input.issuerJwk, input.alg),
    signAlg: input.alg,
    kbSigner: signerFor(input.holderJwk, input.holderAlg),
    kbSignAlg: input.holderAlg,
  });
  const issued = await sdjwt.issue(input.claims, input.frame, {
    header: { typ: "vc+sd-jwt", cty: "vc", kid: input.kid },
  });
  const presented = await sdjwt.present(issued, input.presentation, {
    kb: { payload: { iat: input.iat, aud: input.aud, nonce: input.nonce } },
  });
  output = { issued, presented };
}
process.stdout.write(JSON.stringify(output));
