// Independent signers of the proof suites and status lists that predate Data Integrity 1.0:
// @digitalbazaar/vc (VC 1.1) with @digitalbazaar/ed25519-signature-2018 and -2020,
// @transmute/json-web-signature (JsonWebSignature2020: Ed25519, P-256, P-384) and
// @digitalbazaar/vc-status-list (StatusList2021Credential).
// stdin:  {"requests": [{"suite", "privateJwk", "did", "kid",
//                        "credential" | "statusList": {"id", "length", "set": [index, ...],
//                                                      "statusPurpose", "kind"?}}, ...]}
//         A "statusList" request builds the list credential (issued by "did") and signs it;
//         a "presentation" request (with "challenge") signs it for authentication.
//         A list of "kind": "RevocationList2020" is built by hand (no maintained package makes
//         them any more; its encodedList is the same GZIP bitstring, from StatusList).
// stdout: {"documents": [VC, ...]}
// The document loader is loader.mjs (../shared/contexts) plus the suites' and status lists'
// contexts as their npm packages publish them; it never fetches anything.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as vc from "@digitalbazaar/vc";
import { Ed25519Signature2018 } from "@digitalbazaar/ed25519-signature-2018";
import { Ed25519Signature2020 } from "@digitalbazaar/ed25519-signature-2020";
import { Ed25519VerificationKey2018 } from "@digitalbazaar/ed25519-verification-key-2018";
import { Ed25519VerificationKey2020 } from "@digitalbazaar/ed25519-verification-key-2020";
import { JsonWebKey, JsonWebSignature } from "@transmute/json-web-signature";
import * as statusList from "@digitalbazaar/vc-status-list";
import { documentLoader as sharedLoader } from "./loader.mjs";

const resolve = createRequire(import.meta.url).resolve;
const read = (file) => JSON.parse(readFileSync(resolve(file), "utf8"));
const published = {
  "https://w3id.org/security/suites/ed25519-2018/v1": read(
    "ed25519-signature-2018-context/contexts/ed25519-signature-2018-v1.jsonld",
  ),
  "https://w3id.org/security/suites/jws-2020/v1": read(
    "@transmute/security-context/contexts/suites/jws-2020-v1.json",
  ),
  "https://w3id.org/vc/status-list/2021/v1": read(
    "@digitalbazaar/vc-status-list-context/contexts/vc-status-list-v1.jsonld",
  ),
  "https://w3id.org/vc-revocation-list-2020/v1": read(
    "vc-revocation-list-context/contexts/vc-revocation-list-2020.jsonld",
  ),
};

async function documentLoader(url) {
  if (url in published) return { contextUrl: null, documentUrl: url, document: published[url] };
  return sharedLoader(url);
}

function seedOf(jwk) {
  return new Uint8Array(Buffer.from(jwk.d, "base64url"));
}

async function suiteFor({ suite, privateJwk, did, kid }) {
  if (suite === "Ed25519Signature2018") {
    const key = await Ed25519VerificationKey2018.generate({ seed: seedOf(privateJwk), controller: did, id: kid });
    return new Ed25519Signature2018({ key });
  }
  if (suite === "Ed25519Signature2020") {
    const key = await Ed25519VerificationKey2020.generate({ seed: seedOf(privateJwk), controller: did, id: kid });
    return new Ed25519Signature2020({ key });
  }
  const { d, ...publicKeyJwk } = privateJwk;
  const key = await JsonWebKey.from({
    id: kid,
    type: "JsonWebKey2020",
    controller: did,
    publicKeyJwk,
    privateKeyJwk: privateJwk,
  });
  return new JsonWebSignature({ key });
}

async function buildList({ id, length, set, statusPurpose, kind }) {
  const list = await statusList.createList({ length });
  for (const index of set) list.setStatus(index, true);
  if (kind !== "RevocationList2020") {
    return statusList.createCredential({ id, list, statusPurpose });
  }
  return {
    "@context": ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/vc-revocation-list-2020/v1"],
    id,
    type: ["VerifiableCredential", "RevocationList2020Credential"],
    credentialSubject: { id: `${id}#list`, type: "RevocationList2020", encodedList: await list.encode() },
  };
}

const input = JSON.parse(
  await new Promise((resolve) => {
    let data = "";
    process.stdin.on("data", (chunk) => (data += chunk));
    process.stdin.on("end", () => resolve(data));
  }),
);

const documents = [];
for (const request of input.requests) {
  const suite = await suiteFor(request);
  if (request.presentation) {
    const { presentation, challenge } = request;
    documents.push(await vc.signPresentation({ presentation, suite, challenge, documentLoader }));
    continue;
  }
  let credential = request.credential;
  if (request.statusList) {
    credential = await buildList(request.statusList);
    credential.issuer = request.did;
    credential.issuanceDate = request.statusList.issuanceDate;
  }
  documents.push(await vc.issue({ credential, suite, documentLoader }));
}
process.stdout.write(JSON.stringify({ documents }));
