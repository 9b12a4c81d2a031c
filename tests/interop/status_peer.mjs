// Independent bitstring peer (@digitalbazaar/bitstring): GZIP + base64url, left-to-right bits.
// stdin: {"action": "read", "encodedList", "statusSize", "indexes"} → {"values": [...]}
//      | {"action": "write", "entries", "statusSize", "values": {index: value}} → {"encodedList"}
// The multibase "u" prefix (Bitstring Status List §2.2) is the peer's own handling: the library
// encodes bare base64url. An entry of statusSize n is bits index·n … index·n+n−1, first bit
// most significant.
import { Bitstring } from "@digitalbazaar/bitstring";

const input = JSON.parse(await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
}));

const size = input.statusSize;
let output;
if (input.action === "read") {
  if (!input.encodedList.startsWith("u")) throw new Error("not multibase base64url");
  const buffer = await Bitstring.decodeBits({ encoded: input.encodedList.slice(1) });
  const bits = new Bitstring({ buffer });
  const values = input.indexes.map((index) => {
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 2 + (bits.get(index * size + i) ? 1 : 0);
    return value;
  });
  output = { values, length: bits.length };
} else {
  const bits = new Bitstring({ length: input.entries * size });
  for (const [index, value] of Object.entries(input.values)) {
    for (let i = 0; i < size; i++) {
      const bit = (value >> (size - 1 - i)) & 1;
      if (bit) bits.set(Number(index) * size + i, true);
    }
  }
  output = { encodedList: "u" + (await bits.encodeBits()) };
}
process.stdout.write(JSON.stringify(output));
