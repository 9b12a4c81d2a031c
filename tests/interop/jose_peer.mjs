// Independent JOSE peer (panva/jose): verifies our vc+jwt tokens and signs its own.
// stdin: {"action": "verify", "token", "jwk", "alg"} | {"action": "sign", "jwk", "alg", "kid", "payload"}
import { importJWK, compactVerify, CompactSign } from "jose";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
}));

let output;
if (input.action === "verify") {
  const key = await importJWK(input.jwk, input.alg);
  try {
    const { payload, protectedHeader } = await compactVerify(input.token, key, { algorithms: [input.alg] });
    output = { verified: true, header: protectedHeader, payload: JSON.parse(new TextDecoder().decode(payload)) };
  } catch (error) {
    output = { verified: false, error: String(error.code || error) };
  }
} else {
  const key = await importJWK(input.jwk, input.alg);
  const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(input.payload)))
    .setProtectedHeader({ alg: input.alg, kid: input.kid, typ: "vc+jwt", cty: "vc" })
    .sign(key);
  output = { token };
}
process.stdout.write(JSON.stringify(output));
