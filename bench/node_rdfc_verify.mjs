// The node side of the eddsa-rdfc-2022 comparison (issue 10): @digitalbazaar/vc verifying the
// same credential repeatedly, warm (contexts and did:key already seen), in this process.
// stdin: {"credential": VC, "seconds": N}; stdout: {"median_us", "runs", "verified"}
// Resolves its packages through bench/node_modules -> tests/interop/node_modules.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as vc from "@digitalbazaar/vc";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";

const CONTEXTS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "shared", "contexts");
const contexts = new Map();
for (const line of readFileSync(join(CONTEXTS, "README.md"), "utf8").split("\n")) {
  const cells = line.split("|").map((cell) => cell.trim()).filter(Boolean);
  if (cells.length === 2 && cells[0].startsWith("https://")) {
    contexts.set(cells[0], JSON.parse(readFileSync(join(CONTEXTS, cells[1]), "utf8")));
  }
}

async function documentLoader(url) {
  if (contexts.has(url)) return { contextUrl: null, documentUrl: url, document: contexts.get(url) };
  if (url.startsWith("did:key:")) {
    const [did] = url.split("#");
    const multibase = did.slice("did:key:".length);
    const method = {
      "@context": "https://w3id.org/security/multikey/v1",
      id: `${did}#${multibase}`,
      type: "Multikey",
      controller: did,
      publicKeyMultibase: multibase,
    };
    const document = {
      "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
      id: did,
      verificationMethod: [method],
      assertionMethod: [method.id],
    };
    return { contextUrl: null, documentUrl: url, document: url.includes("#") ? method : document };
  }
  throw new Error(`document loader: ${url} is not known here`);
}

const input = JSON.parse(readFileSync(0, "utf8"));
const suite = new DataIntegrityProof({ cryptosuite: eddsaRdfc2022 });
const verifyOnce = async () => {
  const result = await vc.verifyCredential({ credential: input.credential, suite, documentLoader });
  if (!result.verified) throw new Error(JSON.stringify(result.error?.message || result));
};
for (let i = 0; i < 50; i++) await verifyOnce(); // warm-up: contexts, key, JIT
const batches = [];
const deadline = performance.now() + input.seconds * 1000;
let runs = 0;
while (performance.now() < deadline || batches.length < 5) {
  const start = performance.now();
  for (let i = 0; i < 20; i++) await verifyOnce();
  batches.push(((performance.now() - start) * 1000) / 20);
  runs += 20;
}
batches.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ median_us: batches[batches.length >> 1], runs, verified: true }));
