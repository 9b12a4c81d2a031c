// Independent Data Integrity peer (@digitalbazaar/vc + data-integrity + the eddsa-rdfc-2022 and
// ecdsa-rdfc-2019 cryptosuites): verifies our credentials and signs its own, several per run.
// stdin:  {"action": "verify", "documents": [VC, ...]}
//       | {"action": "sign", "requests": [{"credential", "secretKeyMultibase",
//                                           "publicKeyMultibase", "cryptosuite"}, ...]}
// stdout: {"results": [{"verified", "error"}, ...]} | {"documents": [VC, ...]}
// The document loader serves only ../shared/contexts (the published W3C contexts) and did:key
// documents built from the key itself; it never fetches anything.
import * as vc from "@digitalbazaar/vc";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import { cryptosuite as ecdsaRdfc2019 } from "@digitalbazaar/ecdsa-rdfc-2019-cryptosuite";
import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import * as EcdsaMultikey from "@digitalbazaar/ecdsa-multikey";
import { documentLoader } from "./loader.mjs";

const SUITES = { "eddsa-rdfc-2022": eddsaRdfc2022, "ecdsa-rdfc-2019": ecdsaRdfc2019 };

async function keyPair({ secretKeyMultibase, publicKeyMultibase }) {
  const did = `did:key:${publicKeyMultibase}`;
  const key = {
    "@context": "https://w3id.org/security/multikey/v1",
    id: `${did}#${publicKeyMultibase}`,
    type: "Multikey",
    controller: did,
    publicKeyMultibase,
    secretKeyMultibase,
  };
  return publicKeyMultibase.startsWith("z6Mk") ? Ed25519Multikey.from(key) : EcdsaMultikey.from(key);
}

const input = JSON.parse(
  await new Promise((resolve) => {
    let data = "";
    process.stdin.on("data", (chunk) => (data += chunk));
    process.stdin.on("end", () => resolve(data));
  }),
);

let output;
if (input.action === "verify") {
  const suite = Object.values(SUITES).map((cryptosuite) => new DataIntegrityProof({ cryptosuite }));
  const results = [];
  for (const credential of input.documents) {
    const result = await vc.verifyCredential({ credential, suite, documentLoader });
    const error = result.error || result.results?.find((r) => r.error)?.error;
    results.push({
      verified: result.verified,
      error: error ? String(error.errors?.[0]?.message || error.message || error) : null,
    });
  }
  output = { results };
} else {
  const documents = [];
  for (const request of input.requests) {
    const key = await keyPair(request);
    const suite = new DataIntegrityProof({
      signer: key.signer(),
      cryptosuite: SUITES[request.cryptosuite],
    });
    documents.push(await vc.issue({ credential: request.credential, suite, documentLoader }));
  }
  output = { documents };
}
process.stdout.write(JSON.stringify(output));
