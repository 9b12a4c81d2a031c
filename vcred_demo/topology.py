"""Who takes part: the agencies, their did:web names, ports and MRA partners.

The partners come from the registry (vcred.customs.programmes): each verifying agency lists
every other demo agency whose programme has an arrangement with its own — the US, the EU,
Japan and Canada recognise each other's programmes; the US and Mexico too. Two arrangements
are demonstration data, added by the registry file :func:`demo_registry` writes (a registry
extension, as an agency would add one): EU–Mexico, signed but not yet in force, and
Japan–Mexico, ended. Neither exists; the file says so in its sources.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Final

from vcred.customs.programmes import mra_between
from vcred.customs.samples import ISSUERS

DEMO_SOURCE: Final = "https://vcred.dev/demo"


@dataclass(frozen=True, slots=True)
class Agency:
    programme: str
    label: str
    country: str
    issuer_port: int
    verifier_port: int | None

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

    @property
    def partners(self) -> tuple[tuple[str, str], ...]:
        """(programme, country of its issuer) of each demo agency this one has an
        arrangement with, in the registry in use."""
        return tuple(
            (other.programme, other.country)
            for other in AGENCIES
            if other is not self and mra_between(self.programme, other.programme) is not None
        )


AGENCIES: Final[tuple[Agency, ...]] = (
    Agency("US-CTPAT", "United States · CTPAT", "US", 8101, 8201),
    Agency("EU-AEO", "European Union · AEO (Germany)", "DE", 8102, 8202),
    Agency("JP-AEO", "Japan · AEO", "JP", 8103, 8203),
    Agency("MX-OEA", "Mexico · OEA", "MX", 8104, None),
    Agency("CA-PIP", "Canada · Partners in Protection", "CA", 8105, None),
)


def agency(programme: str) -> Agency:
    return next(a for a in AGENCIES if a.programme == programme)


def demo_registry(folder: Path, today: date) -> Path:
    """Write the demo's registry file: two arrangements that do not exist, dated around
    ``today`` — one signed and in force next year, one that ended last week."""
    source = {
        "url": DEMO_SOURCE,
        "confirms": "demonstration data of the vcred demo: not a real arrangement",
    }
    data = {
        "description": "vcred demo: fictional arrangements, to show what the trust list does "
        "with one not yet in force and one that has ended",
        "arrangements": [
            {
                "id": "urn:vcred:demo:mra:eu-aeo:mx-oea",
                "name": "EU–Mexico mutual recognition (demo: not a real arrangement)",
                "parties": ["EU-AEO", "MX-OEA"],
                "signed": (today - timedelta(days=30)).isoformat(),
                "inForce": (today + timedelta(days=180)).isoformat(),
                "sources": [{**source, "facts": ["parties", "signed", "inForce"]}],
            },
            {
                "id": "urn:vcred:demo:mra:jp-aeo:mx-oea",
                "name": "Japan–Mexico mutual recognition (demo: not a real arrangement)",
                "parties": ["JP-AEO", "MX-OEA"],
                "signed": (today - timedelta(days=3 * 365)).isoformat(),
                "inForce": (today - timedelta(days=2 * 365)).isoformat(),
                "ended": (today - timedelta(days=7)).isoformat(),
                "sources": [{**source, "facts": ["parties", "signed", "inForce", "ended"]}],
            },
        ],
    }
    path = folder / "demo-registry.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
