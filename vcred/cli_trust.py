"""``vcred trust-list build | sign | show | diff | verify``: an agency's MRA trust list over
its lifecycle (docs/trust-fabric.md).

``build`` makes the unsigned list from a specification file, numbering it after the list it
replaces; ``sign`` secures it with the trust-list key; ``show`` and ``diff`` read verified
lists; ``verify`` checks a list under its trust anchor and, given the list held, that it may
replace it (through the lists published in between, ``--between``, when it skips numbers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from vcred._json import loads_local
from vcred.cli import _emit, _fail, _fetcher, _load_key_file, _read_input
from vcred.errors import MalformedError, ParsingError, UsageError, VcredError
from vcred.issuing import issue, signer_for
from vcred.jose import unverified_payload
from vcred.keys import LocalSigner
from vcred.model import parse_datetime
from vcred.trust import (
    TRUST_LIST_KEY_PREFIX,
    TrustAnchor,
    TrustList,
    build_trust_list,
    list_digest,
    load_signed_trust_list,
)
from vcred.trustfeed import check_succession, describe, diff
from vcred.verifier import Verifier, utc_now

_SPEC_MEMBERS = {
    "issuer",
    "programme",
    "id",
    "authorityName",
    "authorityCountry",
    "validFrom",
    "nextUpdate",
    "validUntil",
    "sequenceNumber",
    "recognisedIssuers",
    "allowUnverified",
}


@click.group("trust-list")
def trust_list() -> None:
    """MRA trust lists: build, sign, show, diff, verify."""


@trust_list.command("build")
@click.argument("spec", default="-")
@click.option(
    "--previous",
    type=click.Path(exists=True, dir_okay=False),
    help="the signed list this one replaces: numbered after it, naming its digest",
)
def build_command(spec: str, previous: str | None) -> None:
    """Print the unsigned trust list described by SPEC.json (or - for stdin).

    SPEC: issuer (the agency's DID), programme, validFrom, nextUpdate, validUntil,
    recognisedIssuers (issuer, programme, country, acceptedCredentialTypes, optional dids,
    pinnedKeys, since, until), optional id, sequenceNumber, authorityName, authorityCountry.
    """
    try:
        d = loads_local(_read_input(spec), what="the specification")
    except ParsingError as exc:
        _fail(exc.message)
    if not isinstance(d, dict):
        _fail("the specification is a JSON object")
    extra = sorted(set(d) - _SPEC_MEMBERS)
    if extra:
        _fail(f"unknown specification members: {', '.join(extra)}")
    sequence = d.get("sequenceNumber")
    replaces = None
    if previous is not None:
        text = _read_input(previous).strip()
        before = _previous_sequence(text, previous)
        if sequence is None:
            sequence = before + 1
        replaces = (before, list_digest(text))
    elif isinstance(sequence, int) and sequence > 1:
        click.echo(
            f"vcred: warning: list {sequence} names no list it replaces (give --previous): "
            "a verifier holding an earlier list refuses it",
            err=True,
        )
    try:
        built = build_trust_list(
            d.get("recognisedIssuers", []),
            issuer=_required(d, "issuer"),
            programme=_required(d, "programme"),
            valid_from=_moment(d, "validFrom"),
            valid_until=_moment(d, "validUntil"),
            authority_name=d.get("authorityName"),
            authority_country=d.get("authorityCountry"),
            credential_id=d.get("id"),
            allow_unverified=bool(d.get("allowUnverified", False)),
            sequence=sequence if sequence is not None else 1,
            next_update=_moment(d, "nextUpdate") if "nextUpdate" in d else None,
            replaces=replaces,
        )
    except VcredError as exc:
        _fail(f"{exc.code}: {exc}")
    _emit(built)


@trust_list.command("sign")
@click.argument("source", default="-")
@click.option("--key", "key_file", required=True, help="the trust-list key (JWK, PEM, Multikey)")
@click.option(
    "--method",
    help="a did:web agency's trust-list key method (DID URL, #trust-list-…); default: the "
    "key's did:key",
)
@click.option("--format", "fmt", default="vc+jwt", show_default=True, help="securing format")
def sign_command(source: str, key_file: str, method: str | None, fmt: str) -> None:
    """Sign the trust list SOURCE.json with the trust-list key and print it."""
    try:
        document = loads_local(_read_input(source), what="the trust list")
    except ParsingError as exc:
        _fail(exc.message)
    key = _load_key_file(key_file)
    try:
        if method is None:
            signer: Any = signer_for(key)
        else:
            did, _, fragment = method.partition("#")
            if not did.startswith("did:web:") or not fragment.startswith(TRUST_LIST_KEY_PREFIX):
                raise UsageError(
                    f"--method is a did:web key named #{TRUST_LIST_KEY_PREFIX}…, not {method!r}"
                )
            signer = LocalSigner(key=key, key_id=method)
        _emit(issue(document, signer, format=fmt))
    except VcredError as exc:
        _fail(f"{exc.code}: {exc}")


def _anchor_options(command: Any) -> Any:
    for option in reversed(
        [
            click.option("--anchor", required=True, help="the DID that must have signed it"),
            click.option("--method", help="its trust-list key (DID URL or #fragment)"),
            click.option("--dev", is_flag=True, help="allow http and private addresses"),
            click.option("--host-map", multiple=True, help="HOST=ORIGIN for a local did:web"),
        ]
    ):
        command = option(command)
    return command


@trust_list.command("show")
@click.argument("source", default="-")
@_anchor_options
def show_command(
    source: str, anchor: str, method: str | None, dev: bool, host_map: tuple[str, ...]
) -> None:
    """Verify a signed trust list under its anchor and print its summary."""
    _emit(describe(_load(source, anchor, method, dev, host_map)))


@trust_list.command("diff")
@click.argument("old")
@click.argument("new")
@_anchor_options
def diff_command(
    old: str, new: str, anchor: str, method: str | None, dev: bool, host_map: tuple[str, ...]
) -> None:
    """Print what changed from the signed list OLD to NEW (both verified under the anchor)."""
    before = _load(old, anchor, method, dev, host_map)
    after = _load(new, anchor, method, dev, host_map)
    _emit(diff(before, after))


@trust_list.command("verify")
@click.argument("source", default="-")
@_anchor_options
@click.option(
    "--previous",
    type=click.Path(exists=True, dir_okay=False),
    help="the list held: SOURCE must be allowed to replace it (no rollback, no fork)",
)
@click.option(
    "--between",
    type=click.Path(exists=True, dir_okay=False),
    multiple=True,
    help="(repeat) a signed list published between --previous and SOURCE, when SOURCE skips "
    "numbers: each must name the one before it (any order given; sorted by number)",
)
def verify_command(
    source: str,
    anchor: str,
    method: str | None,
    dev: bool,
    host_map: tuple[str, ...],
    previous: str | None,
    between: tuple[str, ...],
) -> None:
    """Verify a signed trust list; exit 0 when it is acceptable, 1 when refused."""
    if between and previous is None:
        _fail("--between links SOURCE to the list held: give that list with --previous")
    loaded = _load(source, anchor, method, dev, host_map, refused_code=1)
    if previous is not None:
        held = _load(previous, anchor, method, dev, host_map)
        # lists replaced since need not be in force now: each is verified as of the moment
        # the one after it took effect, as the feed does (vcred.trustfeed.TrustListFeed)
        chain: list[TrustList] = []
        successor = loaded
        for path in sorted(between, key=_stated_sequence, reverse=True):
            moment = min(successor.valid_from or utc_now(), utc_now())
            successor = _load(path, anchor, method, dev, host_map, refused_code=1, at=moment)
            chain.append(successor)
        try:
            check_succession(held, loaded, between=chain[::-1])
        except VcredError as exc:
            _fail(f"refused: {exc.code}: {exc}", code=1)
    click.echo(f"verified: {loaded.label}, signed by {loaded.issuer}")


def _stated_sequence(path: str) -> int:
    """The sequence number a list file states, read unverified to put ``--between`` lists in
    order (each is then verified; a list stating none sorts first and is refused)."""
    text = _read_input(path).strip()
    try:
        payload = loads_local(text, what=path) if text.startswith("{") else unverified_payload(text)
    except (VcredError, ValueError):
        return 0
    subject = payload.get("credentialSubject") if isinstance(payload, dict) else None
    number = subject.get("sequenceNumber") if isinstance(subject, dict) else None
    return number if isinstance(number, int) and not isinstance(number, bool) else 0


def _load(
    source: str,
    anchor: str,
    method: str | None,
    dev: bool,
    host_map: tuple[str, ...],
    *,
    refused_code: int = 2,
    at: datetime | None = None,
) -> TrustList:
    """``source`` verified under the anchor, now or as of ``at``; exits ``refused_code``
    when it is refused."""
    try:
        pinned = TrustAnchor(did=anchor, method=method)
    except UsageError as exc:
        _fail(str(exc))
    text = _read_input(source).strip()
    verifier = Verifier(
        fetcher=_fetcher(dev, host_map), checks=("proof", "issuer", "validity"), at=at
    )
    try:
        return load_signed_trust_list(text, now=at or utc_now(), anchor=pinned, verifier=verifier)
    except VcredError as exc:
        _fail(f"{source} refused: {exc.code}: {exc}", code=refused_code)


def _previous_sequence(text: str, path: str) -> int:
    """The sequence number the previous list states (the agency's own file: read, not
    verified; ``verify --previous`` checks it)."""
    try:
        payload = unverified_payload(text)
    except VcredError as exc:
        _fail(f"{path} is not a signed vc+jwt trust list: {exc}")
    subject = payload.get("credentialSubject")
    number = subject.get("sequenceNumber") if isinstance(subject, dict) else None
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        _fail(f"{path} states no sequence number: pass sequenceNumber in the specification")
    return number


def _required(d: dict[str, Any], name: str) -> Any:
    if d.get(name) is None:
        _fail(f"the specification needs {name}")
    return d[name]


def _moment(d: dict[str, Any], name: str) -> datetime:
    value = _required(d, name)
    try:  # the one reader of a dateTimeStamp (an offset within ±14:00, as the list states it)
        return parse_datetime(value, pointer=f"/{name}", in_utc=True)
    except MalformedError as exc:
        _fail(
            f"{name} is an XML Schema dateTimeStamp, with its time zone "
            f"(e.g. 2026-01-01T00:00:00Z), not {value!r}: {exc.message}"
        )
