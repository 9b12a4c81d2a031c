// The document loader every node peer uses: the published W3C contexts from ../shared/contexts
// (read in place), our customs context from schemas/, and did:key documents built from the key
// itself. It never fetches anything; any other URL is an error.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// where the Python tests look too: VCRED_SHARED, else the folder beside the repository
const CONTEXTS = join(process.env.VCRED_SHARED || join(ROOT, "..", "shared"), "contexts");

const contexts = new Map();
for (const line of readFileSync(join(CONTEXTS, "README.md"), "utf8").split("\n")) {
  const cells = line.split("|").map((cell) => cell.trim()).filter(Boolean);
  if (cells.length === 2 && cells[0].startsWith("https://")) {
    contexts.set(cells[0], JSON.parse(readFileSync(join(CONTEXTS, cells[1]), "utf8")));
  }
}
contexts.set(
  "https://vcred.dev/ns/customs/v1",
  JSON.parse(readFileSync(join(ROOT, "schemas", "customs-v1.jsonld"), "utf8")),
);

export function didKeyDocument(did) {
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

export async function documentLoader(url) {
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
