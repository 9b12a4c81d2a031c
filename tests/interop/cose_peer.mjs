// Independent COSE peer (@transmute/cose, by an editor of VC-JOSE-COSE; ECDSA only): verifies
// our vc+cose / vp+cose COSE_Sign1 and signs its own.
// stdin: {"action": "verify", "cose": base64, "jwk"}
//      | {"action": "sign", "jwk", "kid", "typ", "contentType", "payload", "challenge"?, "domain"?}
// A presentation's challenge and domain go into the CWT claims header (15) as cnonce and aud.
// The JWK carries its alg (ES256 or ES384): the peer takes the algorithm from the key.
import * as cose from "@transmute/cose";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
}));

const COSE_ALG = { ES256: -7, ES384: -35 };
let output;
if (input.action === "verify") {
  const verifier = cose.attached.verifier({ resolver: { resolve: async () => input.jwk } });
  try {
    const payload = await verifier.verify({ coseSign1: Buffer.from(input.cose, "base64") });
    output = { verified: true, payload: JSON.parse(new TextDecoder().decode(payload)) };
  } catch (error) {
    output = { verified: false, error: String(error.message || error) };
  }
} else {
  const signer = cose.attached.signer({ remote: cose.crypto.signer({ privateKeyJwk: input.jwk }) });
  const header = new Map([
    [1, COSE_ALG[input.jwk.alg]],
    [3, input.contentType],
    [4, Buffer.from(input.kid, "utf8")],
    [16, input.typ],
  ]);
  if (input.challenge !== undefined) {
    header.set(15, new Map([[39, Buffer.from(input.challenge, "utf8")], [3, input.domain]]));
  }
  const signed = await signer.sign({
    protectedHeader: header,
    unprotectedHeader: new Map(),
    payload: new TextEncoder().encode(JSON.stringify(input.payload)),
  });
  output = { cose: Buffer.from(signed).toString("base64") };
}
process.stdout.write(JSON.stringify(output));
