// The node peers of issue 21's speed rows, timed warm in this process, one action per run:
//   {"action": "sd-jwt-kb", "token", "issuerJwk", "nonce", "aud", "seconds"}
//       @sd-jwt/core verifying an SD-JWT+KB (issuer signature, disclosures, key binding);
//   {"action": "rdfc-nquads", "nquads", "seconds"}
//       rdf-canonize 5 canonicalizing N-Quads text (RDFC-1.0) into canonical N-Quads.
// stdout: {"median_us", "runs", "output"}. Packages resolve through bench/node_modules.
import { readFileSync } from "node:fs";
import { createHash, createPublicKey, verify } from "node:crypto";
import { SDJwtInstance } from "@sd-jwt/core";
import * as canonize from "rdf-canonize";

const input = JSON.parse(readFileSync(0, "utf8"));

const hasher = (data, alg) => {
  if (alg !== "sha-256") throw new Error(`unsupported _sd_alg ${alg}`);
  return new Uint8Array(createHash("sha256").update(data).digest());
};
const ed25519 = (jwk) => {
  const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: "jwk" });
  return (data, signature) => verify(null, Buffer.from(data), key, Buffer.from(signature, "base64url"));
};

let once;
if (input.action === "sd-jwt-kb") {
  const sdjwt = new SDJwtInstance({
    hasher,
    verifier: ed25519(input.issuerJwk),
    kbVerifier: (data, signature, payload) => ed25519(payload.cnf.jwk)(data, signature),
  });
  once = async () => {
    const result = await sdjwt.verify(input.token, { keyBindingNonce: input.nonce });
    if (result.kb?.payload.aud !== input.aud) throw new Error("audience differs");
    return Object.keys(result.payload).length;
  };
} else if (input.action === "rdfc-nquads") {
  once = () =>
    canonize.canonize(input.nquads, {
      algorithm: "RDFC-1.0",
      inputFormat: "application/n-quads",
      format: "application/n-quads",
    });
} else {
  throw new Error(`unknown action ${input.action}`);
}

let output;
for (let i = 0; i < 200; i++) output = await once(); // warm-up: JIT, key objects
const batches = [];
const deadline = performance.now() + input.seconds * 1000;
let runs = 0;
while (performance.now() < deadline || batches.length < 5) {
  const start = performance.now();
  for (let i = 0; i < 50; i++) await once();
  batches.push(((performance.now() - start) * 1000) / 50);
  runs += 50;
}
batches.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ median_us: batches[batches.length >> 1], runs, output }));
