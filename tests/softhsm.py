"""A SoftHSM2 token for the HSM tests (Debian's softhsm2, installed by ``make test``).

Each test process gets its own token folder and configuration (``SOFTHSM2_CONF``, read once
when the PKCS#11 module is loaded), with every token the tests use made up front: SoftHSM2
lists the tokens of its folder when it is loaded, not those made later.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

MODULE: Final = Path("/usr/lib/softhsm/libsofthsm2.so")
#: The tokens of a test run: the library's, the issuer's, one for gunicorn's workers (none of
#: this process's keys in it), and one nobody logs in to.
TOKENS: Final = ("vcred-lib", "vcred-issuer", "vcred-workers", "vcred-other")
PIN: Final = "246813"  # a test PIN, not a secret
SO_PIN: Final = "135724"


@dataclass(frozen=True, slots=True)
class SoftHsm:
    module: str
    conf: Path
    pin: str = PIN

    def environ(self, token: str) -> dict[str, str]:
        """The issuer's environment for ``token`` (a subprocess or CLI run)."""
        return {
            "SOFTHSM2_CONF": str(self.conf),
            "VCRED_ISSUER_HSM_MODULE": self.module,
            "VCRED_ISSUER_HSM_TOKEN": token,
            "VCRED_ISSUER_HSM_PIN": self.pin,
        }


def make_softhsm(folder: Path) -> SoftHsm:
    """Tokens in ``folder``, configured for this process. Skips when SoftHSM2 is absent
    (``make test`` installs it: see the Makefile's softhsm target)."""
    util = shutil.which("softhsm2-util")
    if util is None or not MODULE.is_file():
        pytest.skip("SoftHSM2 is not installed (make test installs Debian's softhsm2)")
    tokens = folder / "tokens"
    tokens.mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n",
        encoding="utf-8",
    )
    environ = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    for label in TOKENS:
        subprocess.run(
            [util, "--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", PIN],
            check=True,
            capture_output=True,
            env=environ,
        )
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read when this process loads the module
    return SoftHsm(module=str(MODULE), conf=conf)
