// Independent ecdsa-sd-2023 peer (@digitalbazaar/vc + data-integrity +
// @digitalbazaar/ecdsa-sd-2023-cryptosuite): signs base proofs, derives, verifies derived
// credentials — a batch of tasks per run, answered in order.
// stdin:  {"tasks": [
//            {"action": "sign", "credential", "secretKeyMultibase", "publicKeyMultibase",
//             "mandatoryPointers", "selectivePointers"?}   (with selectivePointers: derive too)
//          | {"action": "derive", "document", "selectivePointers", "verify"?: true}
//          | {"action": "verify", "document"}, ...]}
// stdout: {"results": [{"document", "derived"?} | {"verified", "error"}
//                      | {"document", "verified", "error"} | {"error"}, ...]}
// The document loader serves only ../shared/contexts (the published W3C contexts), the customs
// context from schemas/customs-v1.jsonld, and did:key documents built from the key itself; it
// never fetches anything.
import * as vc from "@digitalbazaar/vc";
import { DataIntegrityProof } from "@digitalbazaar/data-integrity";
import {
  createDiscloseCryptosuite,
  createSignCryptosuite,
  createVerifyCryptosuite,
} from "@digitalbazaar/ecdsa-sd-2023-cryptosuite";
import * as EcdsaMultikey from "@digitalbazaar/ecdsa-multikey";
import { documentLoader } from "./loader.mjs";


async function sign({
  credential,
  secretKeyMultibase,
  publicKeyMultibase,
  mandatoryPointers,
  selectivePointers,
}) {
  const did = `did:key:${publicKeyMultibase}`;
  const key = await EcdsaMultikey.from({
    "@context": "https://w3id.org/security/multikey/v1",
    id: `${did}#${publicKeyMultibase}`,
    type: "Multikey",
    controller: did,
    publicKeyMultibase,
    secretKeyMultibase,
  });
  const suite = new DataIntegrityProof({
    signer: key.signer(),
    cryptosuite: createSignCryptosuite({ mandatoryPointers }),
  });
  const document = await vc.issue({ credential, suite, documentLoader });
  if (selectivePointers === undefined) return { document };
  return { document, derived: (await derive({ document, selectivePointers })).document };
}

async function derive({ document, selectivePointers, verify: check }) {
  const suite = new DataIntegrityProof({
    cryptosuite: createDiscloseCryptosuite({ selectivePointers }),
  });
  const derived = await vc.derive({ verifiableCredential: document, suite, documentLoader });
  return check ? { document: derived, ...(await verify({ document: derived })) } : { document: derived };
}

async function verify({ document }) {
  const suite = new DataIntegrityProof({ cryptosuite: createVerifyCryptosuite() });
  const result = await vc.verifyCredential({ credential: document, suite, documentLoader });
  const error = result.error || result.results?.find((r) => r.error)?.error;
  return {
    verified: result.verified,
    error: error ? String(error.errors?.[0]?.message || error.message || error) : null,
  };
}

const ACTIONS = { sign, derive, verify };
const input = JSON.parse(
  await new Promise((resolve) => {
    let data = "";
    process.stdin.on("data", (chunk) => (data += chunk));
    process.stdin.on("end", () => resolve(data));
  }),
);
const results = [];
for (const task of input.tasks) {
  try {
    results.push(await ACTIONS[task.action](task));
  } catch (error) {
    results.push({ error: String(error?.cause?.message || error?.message || error) });
  }
}
process.stdout.write(JSON.stringify({ results }));
