"""Trusted-trader (AEO) programmes and the mutual recognition arrangements between them.

An AEO programme is a customs administration's implementation of the WCO SAFE Framework's
Authorised Economic Operator concept; a mutual recognition arrangement (MRA) is a bilateral
decision that each side treats the other's certified operators like its own.
https://www.wcoomd.org/en/topics/facilitation/instrument-and-tools/tools/safe_package.aspx

The programmes and arrangements are data: the registry files in ``vcred/customs/registry/``
(each fact with the public source that confirms it), plus any file an agency adds with
:func:`use_registry` (docs/trust-fabric.md). :data:`PROGRAMMES` and :data:`MRAS` are live
views of the registry in use.

Dates are as published: ``signed`` is ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, as precise as
the source; ``effective`` is the day recognition took effect when a source says so;
``listed_since`` the day an authority listed the partner when that is all a source gives;
``until`` the last day of an arrangement that has ended (inclusive), None while in force.
A partial date is read as what is certain (fail closed): a start (``signed``, ``inForce``,
``listedSince``) as the last day of its period, an end (``ended``) as the first — "2012-07"
starts recognition on 31 July, and ends it on 1 July.
An arrangement with none of these dates has no day from which it applies: it is never in
force until a registry file gives one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Final, overload

from ..errors import UsageError

if TYPE_CHECKING:
    from ._registry import Registry

# What mutual recognition gives a recognised operator at the partner's border. CBP lists
# "fewer exams, … business resumption, front-of-the-line processing, marketability"
# (https://www.cbp.gov/newsroom/national-media-release/us-customs-and-border-protection-singapore-sign-customs-agreements);
# the EU and UK list fewer security controls, priority treatment, a business continuity
# mechanism and recognition as trusted business partners
# (https://www.gov.uk/guidance/customs-technical-handbook-authorised-economic-operator-aeo/mutual-recognition).
BENEFITS: Final[dict[str, str]] = {
    "REDUCED_EXAMINATIONS": (
        "Fewer physical and documentary security controls: the partner's customs takes the "
        "operator's status into account in its risk assessment"
    ),
    "PRIORITY_PROCESSING": (
        "Priority (front-of-the-line) treatment of consignments selected for control"
    ),
    "BUSINESS_CONTINUITY": (
        "Priority when trade resumes after a disruption such as a port closure or a security "
        "incident (joint business continuity mechanism)"
    ),
    "TRUSTED_PARTNER": (
        "Recognised as a secure business partner when operators assess the security of their "
        "suppliers and customers"
    ),
}
STANDARD_BENEFITS: Final = (
    "REDUCED_EXAMINATIONS",
    "PRIORITY_PROCESSING",
    "BUSINESS_CONTINUITY",
    "TRUSTED_PARTNER",
)

# Who does what in the supply chain (WCO SAFE Framework, AEO section 1.2).
TRADE_ROLES: Final[dict[str, str]] = {
    "importer": "Importer",
    "exporter": "Exporter",
    "manufacturer": "Manufacturer",
    "carrier": "Carrier",
    "customs-broker": "Customs broker / agent",
    "freight-forwarder": "Freight forwarder",
    "consolidator": "Consolidator",
    "warehouse-operator": "Warehouse keeper",
    "terminal-operator": "Port or terminal operator",
    "logistics-provider": "Third-party logistics provider",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A public source and the facts of a registry record it confirms."""

    url: str
    confirms: str
    facts: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Programme:
    """One AEO programme: who runs it, where, and its tiers (levels or authorisation types)."""

    code: str
    name: str
    authority: str
    countries: frozenset[str]
    tiers: dict[str, str] = field(hash=False)
    url: str | None = None
    roles: tuple[str, ...] = ()
    identifier_schemes: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    unconfirmed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MutualRecognition:
    """A mutual recognition arrangement between two programmes.

    ``recognised_tiers`` narrows, per programme, which tiers the partner recognises (the EU
    recognises only AEO certificates with the security component, AEOS and AEOF); a
    programme absent from it has all its tiers recognised.
    """

    id: str
    programmes: tuple[str, str]
    name: str
    signed: str | None = None
    effective: date | None = None
    listed_since: date | None = None
    until: date | None = None
    recognised_tiers: dict[str, frozenset[str]] = field(default_factory=dict, hash=False)
    benefits: tuple[str, ...] = STANDARD_BENEFITS
    sources: tuple[Source, ...] = ()
    unconfirmed: tuple[str, ...] = ()
    note: str = ""

    @property
    def verified(self) -> bool:
        """Whether a source confirms that the arrangement exists (its parties)."""
        return "parties" not in self.unconfirmed and any("parties" in s.facts for s in self.sources)

    @property
    def source(self) -> str:
        """The sources' addresses, for a trust list entry."""
        return "; ".join(dict.fromkeys(s.url for s in self.sources))

    @property
    def since(self) -> date | None:
        """The first day of recognition: the day it took effect, else the (last day of the
        period of the) signing, else the day the authority listed it; None when unknown.
        A partial date's last day: before it, that recognition had begun is not certain."""
        if self.effective is not None:
            return self.effective
        if self.signed is not None:
            return last_day(self.signed)
        return self.listed_since

    def partner_of(self, programme: str) -> str:
        """The other programme of the pair. Raises UsageError if ``programme`` is not in it."""
        first, second = self.programmes
        if programme == first:
            return second
        if programme == second:
            return first
        raise UsageError(f"{programme} is not a party to {self.id}")

    def recognises(self, programme: str, tier: str | None) -> bool:
        """Whether a certificate of ``programme`` at ``tier`` falls under this arrangement.

        ``tier`` None: whether every tier does. Fails closed as the trust rule does
        (:meth:`vcred.trust.TrustList.evaluate`): a tier that is none of the programme's, or
        no tier where only some are recognised, is not recognised."""
        if programme not in self.programmes:
            return False
        allowed = self.recognised_tiers.get(programme)
        if tier is None:
            return allowed is None
        known = PROGRAMMES.get(programme)
        if known is None or tier not in known.tiers:
            return False
        return allowed is None or tier in allowed

    def in_force(self, day: date) -> bool:
        """Whether recognition applies on ``day`` (``until`` is the last day, inclusive).
        An arrangement without a known first day is not in force."""
        since = self.since
        return since is not None and since <= day and (self.until is None or day <= self.until)


def first_day(partial: str) -> date:
    """The first day of a ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` period."""
    year, month, day = (*(int(part) for part in partial.split("-")), 1, 1)[:3]
    return date(year, month, day)


def last_day(partial: str) -> date:
    """The last day of a ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` period."""
    parts = [int(part) for part in partial.split("-")]
    if len(parts) == 3:
        return date(parts[0], parts[1], parts[2])
    if len(parts) == 1:
        return date(parts[0], 12, 31)
    following = date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


# -- the registry in use -----------------------------------------------------------------------

_active: list[Registry] = []
#: Reads the bundled registry files. The loader (``_registry``) builds this module's classes,
#: so it imports this module and hands its reader in (:func:`set_bundled_loader`) rather than
#: being imported from here: no import cycle, none hidden in a function.
_bundled: list[Callable[[], Registry]] = []


def set_bundled_loader(load: Callable[[], Registry]) -> None:
    """Install the reader of the bundled registry (called once, by ``_registry``)."""
    _bundled[:] = [load]


def bundled() -> Registry:
    """The registry of the bundled files. Raises UsageError before the loader is installed
    (importing :mod:`vcred.customs` installs it)."""
    if not _bundled:
        raise UsageError("the customs registry loader is not installed: import vcred.customs")
    return _bundled[0]()


def active_registry() -> Registry:
    """The registry every lookup uses: the bundled files, or what :func:`use_registry` set."""
    if not _active:
        _active.append(bundled())
    return _active[-1]


def use_registry(registry: Registry) -> Registry:
    """Make ``registry`` the one every lookup uses (a process setting, made at start-up by
    the CLI and the services from their ``--registry`` option); returns the previous one."""
    previous = active_registry()
    _active[-1] = registry
    return previous


@contextmanager
def registry_in_use(registry: Registry) -> Iterator[Registry]:
    """Use ``registry`` within the block, then the one used before (tests, one-off tools)."""
    previous = use_registry(registry)
    try:
        yield registry
    finally:
        use_registry(previous)


class _Programmes(Mapping[str, Programme]):
    """The programmes of the registry in use, by code (a live, read-only view)."""

    def __getitem__(self, code: str) -> Programme:
        return active_registry().programmes[code]

    def __iter__(self) -> Iterator[str]:
        return iter(active_registry().programmes)

    def __len__(self) -> int:
        return len(active_registry().programmes)


class _Arrangements(Sequence[MutualRecognition]):
    """The arrangements of the registry in use (a live, read-only view)."""

    @overload
    def __getitem__(self, index: int) -> MutualRecognition: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[MutualRecognition]: ...
    def __getitem__(self, index: int | slice) -> MutualRecognition | Sequence[MutualRecognition]:
        return active_registry().arrangements[index]

    def __len__(self) -> int:
        return len(active_registry().arrangements)


PROGRAMMES: Final[Mapping[str, Programme]] = _Programmes()
MRAS: Final[Sequence[MutualRecognition]] = _Arrangements()


def programme(code: str) -> Programme:
    """The programme with this code. Raises UsageError for an unknown code."""
    found = PROGRAMMES.get(code)
    if found is None:
        raise UsageError(f"unknown AEO programme {code!r}; known: {', '.join(sorted(PROGRAMMES))}")
    return found


def programmes_for_country(country: str) -> tuple[Programme, ...]:
    """The programmes that certify operators established in ``country`` (ISO 3166-1)."""
    return tuple(p for p in PROGRAMMES.values() if country in p.countries)


def mras_for(code: str) -> Iterator[MutualRecognition]:
    """Every arrangement ``code`` is a party to."""
    return (m for m in MRAS if code in m.programmes)


def mra_between(a: str, b: str) -> MutualRecognition | None:
    """The arrangement between two programmes, in either order, or None."""
    return active_registry().between(a, b)


def mra_by_id(mra_id: str) -> MutualRecognition | None:
    return next((m for m in MRAS if m.id == mra_id), None)


def registry_paths(paths: Sequence[str | Path]) -> Registry:
    """The bundled registry extended with these files or directories (``*.json`` in name
    order), in order. Raises RegistryError (pointer into the faulty file) for a bad one."""
    return bundled().with_files(paths)
