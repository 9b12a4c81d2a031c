"""Independent VC-JWT 1.1 peer: Spruce's didkit (Rust ssi, PyPI ``didkit``) issues tokens.

stdin: {"requests": [{"credential", "jwk"}, ...]} · stdout: {"tokens": [...]}.
Run as its own process: didkit 0.3.3 aborts at interpreter shutdown (a PyO3 thread-state
error), so the script leaves with os._exit once its answer is written.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import didkit


async def issue(credential: dict[str, Any], jwk: dict[str, Any]) -> str:
    key = json.dumps(jwk)
    method = await didkit.key_to_verification_method("key", key)
    options = {"proofFormat": "jwt", "verificationMethod": method}
    token: str = await didkit.issue_credential(json.dumps(credential), json.dumps(options), key)
    return token


async def main() -> None:
    message = json.load(sys.stdin)
    tokens = [await issue(r["credential"], r["jwk"]) for r in message["requests"]]
    sys.stdout.write(json.dumps({"tokens": tokens}))
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
    os._exit(0)
