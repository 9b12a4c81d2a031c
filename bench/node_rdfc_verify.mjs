// The node side of the eddsa-rdfc-2022 comparison (issue 10): @digitalbazaar/vc verifying the
// same credential repeatedly, warm (contexts and did:key already seen), in this process.
// stdin: {"credential": VC, "seconds": N}; stdout: {"median_us", "runs", "verified"}
// Resolves its packages through bench/node_modules -> tests/interop/node_modules.
import { readFileSync } from "node:fs";
import * as vc from "@digitalbazaar/vc";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import { cryptosuite as eddsaRdfc2022 } from "@digitalbazaar/eddsa-rdfc-2022-cryptosuite";
import { documentLoader } from "../tests/interop/loader.mjs";

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
