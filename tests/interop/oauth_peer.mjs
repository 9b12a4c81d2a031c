// Independent OAuth 2.0 peer (panva/jose): an authorization server minting RFC 9068 access
// tokens, and a resource server verifying ours.
// stdin: {"action": "mint", "alg", "kid", "claims"} -> {"token", "jwks"}
//      | {"action": "verify", "token", "jwks", "issuer", "audience"} -> {"verified", "payload"|"error"}
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, createLocalJWKSet } from "jose";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
}));

let output;
if (input.action === "mint") {
  const options = input.alg === "EdDSA" ? { crv: "Ed25519" } : {};
  const { publicKey, privateKey } = await generateKeyPair(input.alg, options);
  const jwk = { ...(await exportJWK(publicKey)), kid: input.kid, use: "sig", alg: input.alg };
  const token = await new SignJWT(input.claims)
    .setProtectedHeader({ alg: input.alg, kid: input.kid, typ: "at+jwt" })
    .sign(privateKey);
  output = { token, jwks: { keys: [jwk] } };
} else {
  try {
    const { payload, protectedHeader } = await jwtVerify(input.token, createLocalJWKSet(input.jwks), {
      issuer: input.issuer,
      audience: input.audience,
      typ: "at+jwt",
      requiredClaims: ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"],
      currentDate: new Date(input.now * 1000),
    });
    output = { verified: true, header: protectedHeader, payload };
  } catch (error) {
    output = { verified: false, error: String(error.code || error) };
  }
}
process.stdout.write(JSON.stringify(output));
