// Independent Data Integrity peer (@digitalbazaar/vc + data-integrity + the eddsa-rdfc-2022 and
// ecdsa-rdfc-2019 cryptosuites): verifies our credentials and signs its own, several per run.
// stdin:  {"action": "verify", "documents": [VC, ...]}
//       | {"action": "sign", "requests": [{"credential", "secretKeyMultibase",
//                                           "publicKeyMultibase", "cryptosuite"}, ...]}
// stdout: {"results": [{"verified", "error"}, ...]} | {"documents": [VC, ...]}
// The document loader serves only ../shared/contexts (the published W3C contexts) and did:key
// documents built from the key itself; it never fetches anything.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as vc from "@digitalbazaar/vc";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import { cryptosuite as ecdsaRdfc2019 } from "@digitalbazaar/ecdsa-rdfc-2019-cryptosuite";
import * as Ed25519Multikey from "@digitalbazaar/ed25519-multikey";
import * as EcdsaMultikey from "@digitalbazaar/ecdsa-multikey";

const CONTEXTS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "shared", "contexts");
const contexts = new Map();
for (const line of readFileSync(join(CONTEXTS, "README.md"), "utf8").split("\n")) {
  const cells = line.split("|").map((cell) => cell.trim()).filter(Boolean);
  if (cells.length === 2 && cells[0].startsWith("https://")) {
    contexts.set(cells[0], JSON.parse(readFileSync(join(CONTEXTS, cells[1]), "utf8")));
  }
}
const SUITES = { "eddsa-rdfc-2022": eddsaRdfc2022, "ecdsa-rdfc-2019": ecdsaRdfc2019 };

function didKeyDocument(did) {
  const multibase = did.slice("did:key:".length);
  const method = {
    "@context": "https://w3id.org/security/multikey/v1",
    id: `${did}#${multibase}`,
    type: "Multikey",
    controller: did,
    publicKeyMultibase: multibase,
  };
  return {
    method,
    document: {
      "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
      id: did,
      verificationMethod: [method],
      assertionMethod: [method.id],
      authentication: [method.id],
    },
  };
}

async function documentLoader(url) {
  if (contexts.has(url)) {
    return { contextUrl: null, documentUrl: url, document: contexts.get(url) };
  }
  if (url.startsWith("did:key:")) {
    const [did, fragment] = url.split("#");
    const { method, document } = didKeyDocument(did);
    if (fragment === undefined) return { contextUrl: null, documentUrl: url, document };
    if (method.id === url) return { contextUrl: null, documentUrl: url, document: method };
  }
  throw new Error(`document loader: ${url} is not known here`);
}

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
