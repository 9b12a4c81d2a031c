"""Who takes part: the agencies, their did:web names, ports and MRA partners.

The MRAs are real (see vcred.customs.programmes.MRAS): the US, the EU and Japan recognise
each other's programmes. Mexico's OEA has an MRA with the US but none with the EU, which
is what the untrusted-issuer step shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from vcred.customs.samples import ISSUERS


@dataclass(frozen=True, slots=True)
class Agency:
    programme: str
    label: str
    country: str
    issuer_port: int
    verifier_port: int | None
    partners: tuple[tuple[str, str], ...] = ()  # (programme, country of its issuer)

    @property
    def did(self) -> str:
        return ISSUERS[self.programme]["id"]

    @property
    def domain(self) -> str:
        return self.did.removeprefix("did:web:")

    @property
    def verifier_domain(self) -> str:
        """What presentations to this agency's verifier are bound to."""
        return "verify." + self.domain


AGENCIES: Final[tuple[Agency, ...]] = (
    Agency(
        "US-CTPAT",
        "United States · CTPAT",
        "US",
        8101,
        8201,
        partners=(("EU-AEO", "DE"), ("JP-AEO", "JP")),
    ),
    Agency(
        "EU-AEO",
        "European Union · AEO (Germany)",
        "DE",
        8102,
        8202,
        partners=(("US-CTPAT", "US"), ("JP-AEO", "JP")),
    ),
    Agency(
        "JP-AEO",
        "Japan · AEO",
        "JP",
        8103,
        8203,
        partners=(("US-CTPAT", "US"), ("EU-AEO", "DE")),
    ),
    Agency("MX-OEA", "Mexico · OEA", "MX", 8104, None),
)


def agency(programme: str) -> Agency:
    return next(a for a in AGENCIES if a.programme == programme)
