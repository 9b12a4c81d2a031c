"""The ``vcred`` command (DESIGN §5): keys, DIDs, issue, verify, present, serve, demo.

Exit codes: 0 success / verified, 1 not verified, 2 usage error (bad arguments or input that
cannot be used at all).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import click

from vcred import cose, jose, sdjwt
from vcred import did as dids
from vcred._json import loads_local
from vcred.audit import parse_lines, verify_chain
from vcred.customs.programmes import registry_paths, use_registry
from vcred.errors import AuditLineError, ParsingError, UnknownKeyError, UsageError, VcredError
from vcred.integrity import derive
from vcred.integrity.ecdsa_sd import has_base_proof
from vcred.integrity.suites import ECDSA_SD_2023
from vcred.issuing import issue, signer_for
from vcred.jsonld import ContextLoader
from vcred.keys import KEY_KINDS, KeyPair, PublicKey, load_key, load_public_key
from vcred.multibase import b64url_encode
from vcred.net import GuardedFetcher, host_map_of
from vcred.presentation import present
from vcred.trust import TrustAnchor, TrustList, load_signed_trust_list
from vcred.verifier import CHECKS, Verifier, detect, utc_now
from vcred.wallet.cli import wallet

PASSPHRASE_ENV = "VCRED_KEY_PASSPHRASE"  # noqa: S105 - the variable name, not a secret


def _fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"vcred: {message}", err=True)
    sys.exit(code)


def _read_input(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {source}: {exc}")


def _read_bytes(source: str) -> bytes:
    """The raw bytes of a file or stdin (the caller decodes them, naming where they break)."""
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        _fail(f"cannot read {source}: {exc}")


def _read_secured(source: str) -> str | bytes:
    """A secured credential or presentation: text, or the raw bytes of a COSE_Sign1 file."""
    data = _read_bytes(source)
    if data.startswith(cose.TAGGED_SIGN1_PREFIX):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        _fail(f"{source} is neither UTF-8 text nor a COSE_Sign1")


def _load_key_file(path: str) -> KeyPair:
    passphrase = os.environ.get(PASSPHRASE_ENV)
    try:
        return load_key(_read_input(path), password=passphrase.encode() if passphrase else None)
    except VcredError as exc:
        _fail(f"cannot load the key in {path}: {exc}")


def _load_public_key_file(path: str) -> PublicKey:
    try:
        return load_public_key(_read_input(path))
    except VcredError as exc:
        _fail(f"cannot load the public key in {path}: {exc}")


def _fetcher(dev: bool, host_map: tuple[str, ...]) -> GuardedFetcher:
    try:
        mapping = host_map_of(host_map)
    except UsageError as exc:
        _fail(f"--host-map: {exc}")
    if dev:
        click.echo("vcred: --dev: http and private addresses are allowed for fetching", err=True)
    return GuardedFetcher(host_map=mapping, allow_private=dev)


def _emit(value: Any) -> None:
    if isinstance(value, bytes):  # vc+cose / vp+cose: the COSE_Sign1 as unpadded base64url
        click.echo(b64url_encode(value))
    elif isinstance(value, str):
        click.echo(value)
    else:
        click.echo(json.dumps(value, indent=2, ensure_ascii=False))


@click.group()
@click.version_option(package_name="vcred")
@click.option(
    "--registry",
    "registry",
    multiple=True,
    type=click.Path(exists=True),
    envvar="VCRED_REGISTRY",
    help="a registry file (or folder of *.json) adding programmes and arrangements; repeat "
    "(docs/trust-fabric.md)",
)
def main(registry: tuple[str, ...]) -> None:
    """W3C Verifiable Credentials for customs agencies."""
    if registry:
        try:
            use_registry(registry_paths(registry))
        except VcredError as exc:
            _fail(f"the registry is refused: {exc}")


# -- keys and DIDs -------------------------------------------------------------------------------


@main.group()
def key() -> None:
    """Key pairs (Ed25519, P-256, P-384, P-521)."""


@key.command("generate")
@click.option("--type", "kind", type=click.Choice(KEY_KINDS), default="ed25519", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="write here (mode 600)")
def key_generate(kind: str, out: str | None) -> None:
    """Generate a key pair; print (or write) it as a private JWK."""
    text = json.dumps(KeyPair.generate(kind).private_jwk(), indent=2)
    if out is None:
        click.echo(text)
        return
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text + "\n")


@key.command("thumbprint")
@click.argument("keys", nargs=-1, required=True, metavar="KEY_OR_DID...")
@click.option("--dev", is_flag=True, help="allow http and private addresses (development only)")
@click.option(
    "--host-map", multiple=True, help="HOST=ORIGIN, e.g. us.example=http://127.0.0.1:8001"
)
def key_thumbprint(keys: tuple[str, ...], dev: bool, host_map: tuple[str, ...]) -> None:
    """Print the RFC 7638 JWK thumbprint of each key, as a trust list's pinnedKeys name it.

    KEY_OR_DID: a key file (public or private JWK, Multikey, PEM), a did:key or did:jwk, or a
    partner's verification method, DID#fragment (a did:web is resolved, as `did resolve`).
    """
    resolver = dids.Resolver(fetcher=_fetcher(dev, host_map))
    for key_or_did in keys:
        click.echo(_public_key(key_or_did, resolver).thumbprint())


def _public_key(key_or_did: str, resolver: dids.Resolver) -> PublicKey:
    """A key file's public key, or the key of a DID URL (a did:key or did:jwk: its one key)."""
    if not key_or_did.startswith("did:"):
        try:
            return load_public_key(_read_input(key_or_did))
        except VcredError:  # a private key file: its public half
            return _load_key_file(key_or_did).public
    try:
        if "#" in key_or_did or not key_or_did.startswith(("did:key:", "did:jwk:")):
            return resolver.resolve_method(key_or_did, relationship="assertionMethod").public_key
        methods = resolver.resolve(key_or_did).methods_for("assertionMethod")
        if not methods:  # a did:jwk of an encryption key ("use": "enc"): keyAgreement only
            raise UnknownKeyError(f"{key_or_did} has no key for assertions")
        return methods[0].public_key
    except VcredError as exc:
        _fail(f"{exc.code}: {exc}", code=1)


@main.group()
def did() -> None:
    """Decentralized identifiers."""


@did.command("create")
@click.argument("method", type=click.Choice(["key", "jwk"]))
@click.option("--key", "key_file", required=True, help="private key file (JWK, PEM or Multikey)")
def did_create(method: str, key_file: str) -> None:
    """Print the did:key or did:jwk of a key."""
    public = _load_key_file(key_file).public
    click.echo(dids.did_key(public) if method == "key" else dids.did_jwk(public))


@did.command("resolve")
@click.argument("identifier")
@click.option("--dev", is_flag=True, help="allow http and private addresses (development only)")
@click.option(
    "--host-map", multiple=True, help="HOST=ORIGIN, e.g. us.example=http://127.0.0.1:8001"
)
def did_resolve(identifier: str, dev: bool, host_map: tuple[str, ...]) -> None:
    """Print the DID document of a did:key, did:jwk or did:web."""
    resolver = dids.Resolver(fetcher=_fetcher(dev, host_map))
    try:
        _emit(dict(resolver.resolve(identifier).document))
    except VcredError as exc:
        _fail(f"{exc.code}: {exc}", code=1)


# -- issue, verify, present ----------------------------------------------------------------------


_SD_JWT_FORMATS = ("vc+sd-jwt", "sd-jwt")


@main.command("issue")
@click.argument("credential", default="-")
@click.option("--key", "key_file", required=True, help="private key file (JWK, PEM or Multikey)")
@click.option("--issuer", help="the issuer: a DID, or an https URL (default: the key's did:key)")
@click.option(
    "--key-id",
    help="an https issuer's verification method, URL#fragment (default: URL#JWK-thumbprint)",
)
@click.option("--format", "fmt", default="vc+jwt", show_default=True, help="securing format")
@click.option(
    "--disclosable",
    multiple=True,
    metavar="PATH",
    help="vc+sd-jwt: a claim the holder may withhold (JSON Pointer, * = every array element); "
    "repeat; default: the credential type's defaults",
)
@click.option("--holder", help="vc+sd-jwt: the holder's DID or DID URL, bound through cnf")
@click.option(
    "--mandatory",
    multiple=True,
    metavar="POINTER",
    help="ecdsa-sd-2023: what every derived credential reveals (JSON Pointer); repeat; "
    "default: the credential type's defaults",
)
def issue_command(
    credential: str,
    key_file: str,
    issuer: str | None,
    key_id: str | None,
    fmt: str,
    disclosable: tuple[str, ...],
    holder: str | None,
    mandatory: tuple[str, ...],
) -> None:
    """Secure CREDENTIAL.json (or - for stdin) and print it."""
    try:
        document = loads_local(_read_input(credential), what="the credential")
    except ParsingError as exc:
        _fail(exc.message)
    options: dict[str, Any] = {}
    if fmt in _SD_JWT_FORMATS:
        options = {"disclosable": disclosable or None, "holder": holder}
    elif disclosable or holder:
        _fail(f"--disclosable and --holder apply to {' and '.join(_SD_JWT_FORMATS)} only")
    if fmt == ECDSA_SD_2023.name:
        options["mandatory_pointers"] = list(mandatory) if mandatory else None
    elif mandatory:
        _fail(f"--mandatory applies to {ECDSA_SD_2023.name} only")
    try:
        signer = signer_for(_load_key_file(key_file), did=issuer, key_id=key_id)
        _emit(issue(document, signer, format=fmt, **options))
    except VcredError as exc:
        _fail(f"{exc.code}: {exc}")


@main.command("verify")
@click.argument("source", default="-")
@click.option("--checks", help=f"comma-separated subset of {','.join(CHECKS)}")
@click.option("--no-status", is_flag=True, help="skip the status check")
@click.option("--trust-list", type=click.Path(exists=True, dir_okay=False), help="MRA trust list")
@click.option("--trust-issuer", help="the DID that must have signed the trust list")
@click.option(
    "--trust-method", help="its trust-list key (DID URL or #fragment; default: #trust-list-…)"
)
@click.option("--challenge", help="verify a presentation bound to this challenge")
@click.option("--domain", help="verify a presentation bound to this domain")
@click.option("--presentation", is_flag=True, help="the input is a presentation")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False),
    help="verify against this public key only (JWK or Multikey file): no DID is resolved",
)
@click.option("--dev", is_flag=True, help="allow http and private addresses (development only)")
@click.option("--host-map", multiple=True, help="HOST=ORIGIN for local did:web and status lists")
@click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="URL=FILE",
    help="a JSON-LD context known beyond the bundled ones (pinned by FILE's SHA-256); repeat",
)
@click.option(
    "--allow-inline-contexts",
    is_flag=True,
    help="accept inline @context objects that do not change what was signed",
)
@click.option(
    "--fetch-related-resources",
    is_flag=True,
    help="retrieve every https relatedResource and check its digest (default: contexts only)",
)
def verify_command(
    source: str,
    checks: str | None,
    no_status: bool,
    trust_list: str | None,
    trust_issuer: str | None,
    trust_method: str | None,
    challenge: str | None,
    domain: str | None,
    presentation: bool,
    key_file: str | None,
    dev: bool,
    host_map: tuple[str, ...],
    contexts: tuple[str, ...],
    allow_inline_contexts: bool,
    fetch_related_resources: bool,
) -> None:
    """Verify a credential or presentation; print the result; exit 0 if verified, else 1.

    With --key, every proof must verify with that key, whatever method it names (of the
    credential's issuer: a DID or an https URL); nothing is resolved.
    """
    chosen = tuple(c.strip() for c in checks.split(",")) if checks else CHECKS
    unknown = set(chosen) - set(CHECKS)
    if unknown:
        _fail(f"unknown checks: {', '.join(sorted(unknown))} (known: {', '.join(CHECKS)})")
    if no_status:
        chosen = tuple(c for c in chosen if c != "status")
    if key_file is not None and trust_list:
        _fail("--key and --trust-list cannot be combined: the trust list has its own signer")
    verifier = Verifier(
        fetcher=_fetcher(dev, host_map),
        resolver=dids.KeyResolver(key=_load_public_key_file(key_file)) if key_file else None,
        checks=chosen,
        contexts=_context_loader(contexts) if contexts else None,
        allow_inline_contexts=allow_inline_contexts,
        fetch_related_resources=fetch_related_resources,
    )
    if trust_list:
        list_verifier = replace(verifier, checks=("proof", "issuer", "validity"))
        trust = _load_trust_list(trust_list, trust_issuer, trust_method, list_verifier)
        verifier = replace(verifier, trust=trust)
    raw = _read_secured(source)
    secured, answer_of_presentation = (
        _unwrap_vc_api_body(raw) if isinstance(raw, str) else (raw, False)
    )
    if presentation or answer_of_presentation or challenge is not None or domain is not None:
        result: Any = verifier.verify_presentation(secured, challenge=challenge, domain=domain)
    elif _looks_like_presentation(secured):
        _fail(
            f"{source} looks like a presentation: pass --presentation "
            "(and the --challenge and --domain it is bound to)"
        )
    else:
        result = verifier.verify(secured)
    _emit(result.to_dict())
    sys.exit(0 if result.verified else 1)


def _context_loader(entries: tuple[str, ...]) -> ContextLoader:
    """The bundled contexts plus each ``URL=FILE``, pinned by the SHA-256 of the file."""
    loader = ContextLoader()
    for entry in entries:
        url, sep, path = entry.partition("=")
        if not sep or not url or not path:
            _fail(f"--context is URL=FILE, not {entry!r}")
        try:
            content = Path(path).read_bytes()
        except OSError as exc:
            _fail(f"cannot read the context file {path}: {exc.strerror or exc}")
        try:
            loader.register(url, content, sha256=hashlib.sha256(content).hexdigest())
        except VcredError as exc:
            _fail(f"the context {url} is refused: {exc.code}: {exc}")
    return loader


#: The members a VC API body carries its credential or presentation in, e.g. the answer of
#: POST /credentials/issue saved to a file; True: a presentation.
_VC_API_MEMBERS = {"verifiableCredential": False, "verifiablePresentation": True}


def _unwrap_vc_api_body(text: str) -> tuple[Any, bool]:
    """What a saved VC API body carries, and whether it is a presentation; else ``text``.

    Only a JSON object that is not itself a credential (no ``@context``) is opened; its member
    is verified as it is, so nothing of the wrapper reaches the verdict.
    """
    if not text.lstrip().startswith("{"):
        return text, False
    try:
        body = jose.loads_strict(text, what="the input")
    except VcredError:
        return text, False  # the verifier reports it, with its pointer
    if not isinstance(body, dict) or "@context" in body:
        return text, False
    for member, is_presentation in _VC_API_MEMBERS.items():
        if isinstance(body.get(member), str | dict):
            return body[member], is_presentation
    return text, False


def _looks_like_presentation(secured: Any) -> bool:
    """Whether ``secured`` says it is a presentation (unverified: only to point at the flag)."""
    try:
        if isinstance(secured, str) and "~" not in secured and secured.count(".") == 2:
            token = secured.strip()
            if jose.unverified_header(token).get("typ") == "vp+jwt":
                return True
            secured = jose.unverified_payload(token)
        elif isinstance(secured, str) and secured.lstrip().startswith("{"):
            secured = jose.loads_strict(secured, what="the input")
    except VcredError:
        return False
    if not isinstance(secured, dict):
        return False
    types = secured.get("type")
    types = types if isinstance(types, list) else [types]
    return bool(
        {"VerifiablePresentation", "EnvelopedVerifiablePresentation"} & set(map(str, types))
    )


def _load_trust_list(
    path: str, expected_issuer: str | None, method: str | None, verifier: Verifier
) -> TrustList:
    """A signed trust list file; its signature must verify, by the expected agency's (or,
    unpinned, its named issuer's) trust-list key."""
    text = _read_input(path)
    try:
        anchor = TrustAnchor(did=expected_issuer or _claimed_issuer(text), method=method)
        return load_signed_trust_list(text, now=utc_now(), anchor=anchor, verifier=verifier)
    except VcredError as exc:
        _fail(f"the trust list {path} is refused: {exc.code}: {exc}", code=2)


def _claimed_issuer(text: str) -> str:
    """The issuer a secured document names (NOT verified: the signature is checked next)."""
    _, document = detect(text)
    if isinstance(document, bytes):
        payload = cose.unverified_payload(document)
    else:
        payload = jose.unverified_payload(document) if isinstance(document, str) else document
    issuer = payload.get("issuer")
    return str(issuer.get("id") if isinstance(issuer, dict) else issuer)


@main.command("present")
@click.argument("credentials", nargs=-1, required=True)
@click.option(
    "--key",
    "key_file",
    help="the holder's private key file (without it, a derived ecdsa-sd-2023 credential is "
    "printed on its own)",
)
@click.option("--holder", help="the holder: a DID, or an https URL (default: the key's did:key)")
@click.option(
    "--key-id",
    help="an https holder's verification method, URL#fragment (default: URL#JWK-thumbprint)",
)
@click.option("--challenge", help="the verifier's challenge (an SD-JWT's key-binding nonce)")
@click.option("--domain", help="the verifier's domain (an SD-JWT's key-binding aud)")
@click.option("--format", "fmt", default="vp+jwt", show_default=True)
@click.option(
    "--disclose",
    multiple=True,
    metavar="PATH",
    help="SD-JWT or ecdsa-sd-2023: a claim to reveal (JSON Pointer; SD-JWT: * = every array "
    "element); repeat",
)
def present_command(
    credentials: tuple[str, ...],
    key_file: str | None,
    holder: str | None,
    key_id: str | None,
    challenge: str | None,
    domain: str | None,
    fmt: str,
    disclose: tuple[str, ...],
) -> None:
    """Wrap credential files (VC…, or - for stdin) in a signed presentation and print it.

    An SD-JWT is presented on its own: the output is the SD-JWT with only the disclosures of
    the --disclose paths, bound to --challenge and --domain by a key-binding JWT.

    A credential with an ecdsa-sd-2023 base proof is never shown as it is (its base proof is
    for the holder only): the credential derived from it, revealing the issuer's mandatory
    claims and the --disclose pointers, is printed on its own, or inside a presentation
    signed with --key.
    """
    items: list[Any] = []
    for source in credentials:
        secured = _read_secured(source)
        text = secured.strip() if isinstance(secured, str) else ""
        try:
            items.append(
                loads_local(text, what=source) if text.startswith("{") else _cose_or(secured)
            )
        except ParsingError as exc:
            _fail(exc.message)
    selective = [item for item in items if isinstance(item, str) and "~" in item]
    bases = [i for i, item in enumerate(items) if has_base_proof(item)]
    if disclose and not selective and not bases:
        _fail(f"--disclose applies to SD-JWT and {ECDSA_SD_2023.name} credentials only")
    if bases and (selective or (disclose and len(items) != 1)):
        _fail(f"--disclose derives from one {ECDSA_SD_2023.name} credential: give just that one")
    if key_file is None and not (bases and len(items) == 1):
        _fail("--key is needed to sign a presentation")
    try:
        for index in bases:
            items[index] = derive(items[index], list(disclose))
        if key_file is None:
            _emit(items[0])
            return
        signer = signer_for(_load_key_file(key_file), did=holder, key_id=key_id)
        if not selective:
            _emit(present(items, signer, challenge=challenge, domain=domain, format=fmt))
            return
        if len(items) != 1:
            _fail("an SD-JWT is presented on its own: give exactly one credential")
        if challenge is None or domain is None:
            _fail("an SD-JWT is presented with --challenge and --domain (key binding nonce, aud)")
        _emit(sdjwt.present(selective[0], signer, disclose=disclose, nonce=challenge, aud=domain))
    except VcredError as exc:
        _fail(f"{exc.code}: {exc}")


def _cose_or(secured: str | bytes) -> str | bytes:
    """A vc+cose credential as its bytes (also given as base64url text); anything else as is."""
    as_is = secured.strip() if isinstance(secured, str) else secured
    try:
        fmt, document = detect(secured)
    except VcredError:
        return as_is
    return bytes(document) if fmt == "vc+cose" else as_is


class _ServiceGroup(click.Group):
    """Subcommands that live in the service packages, imported only when run.

    ``vcred`` itself never imports Flask: ``vcred serve issuer`` loads ``issuer_app.cli``
    (which does) at the moment it is used.
    """

    services: ClassVar[dict[str, str]] = {
        "issuer": "issuer_app.cli",
        "verifier": "verifier_app.cli",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.services)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = self.services.get(cmd_name)
        if module_name is None:
            return None
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name

            def unavailable() -> None:
                _fail(f"the {cmd_name} service needs {missing}: pip install 'vcred[server]'")

            return click.Command(cmd_name, callback=unavailable, help="(not installed)")
        command: click.Command = module.command
        return command


@main.group(cls=_ServiceGroup)
def serve() -> None:
    """Run one service: the issuer or the verifier of an agency."""


class _LazyGroup(click.Group):
    """A command group that lives in a service package, imported only when it is used
    (like :class:`_ServiceGroup`): ``vcred issuer …`` is ``issuer_app.cli.admin``."""

    def __init__(self, name: str, target: str, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.target = target

    def _load(self) -> click.Group | None:
        module_name, _, attribute = self.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            return None
        group: click.Group = getattr(module, attribute)
        return group

    def list_commands(self, ctx: click.Context) -> list[str]:
        group = self._load()
        return [] if group is None else group.list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        group = self._load()
        if group is None:

            def unavailable() -> None:
                _fail(f"vcred {self.name} needs the server extras: pip install 'vcred[server]'")

            return click.Command(cmd_name, callback=unavailable, help="(not installed)")
        return group.get_command(ctx, cmd_name)


main.add_command(
    _LazyGroup(
        "issuer",
        "issuer_app.cli:admin",
        help="Administer an issuer service: API tokens, keys, officers, the audit log.",
    )
)
main.add_command(
    _LazyGroup(
        "verifier",
        "verifier_app.cli:admin",
        help="Administer a verifier service: the officers who may read its history.",
    )
)


@main.group("audit")
def audit_group() -> None:
    """Tamper-evident audit logs (an issuer's: `vcred issuer audit export`)."""


@audit_group.command("verify")
@click.argument("source", default="-")
@click.option("--expect-head", help="the hash the last entry must have (detects truncation)")
def audit_verify(source: str, expect_head: str | None) -> None:
    """Check an exported audit chain (JSON lines); exit 0 intact, 1 broken, 2 unreadable.

    Every break is reported with its line and seq: an altered entry, a removed or
    reordered one, a cut in the chain.
    """
    try:
        entries = parse_lines(_read_bytes(source))
    except AuditLineError as exc:
        _fail(exc.message)
    report = verify_chain(entries, expect_head=expect_head)
    if report.entries == 0:
        _fail("no audit entries in the input")
    if report.intact:
        click.echo(f"audit chain intact: {report.entries} entries, head {report.head}")
        sys.exit(0)
    click.echo(f"audit chain BROKEN ({len(report.breaks)} problem(s)):")
    for problem in report.breaks:
        click.echo(f"  {problem}")
    sys.exit(1)


@main.command("demo")
@click.option(
    "--check", is_flag=True, help="no terminal UI; exit 0 only if every step went as expected"
)
@click.option(
    "--base-port",
    type=int,
    default=8100,
    show_default=True,
    help="issuers on BASE+1…, verifiers on BASE+101…; 0 picks free ports",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="keep the services' data here (default: a temporary folder, removed at the end)",
)
@click.option("--library", is_flag=True, help="the library-only walkthrough (no services)")
def demo_command(check: bool, base_port: int, data_dir: Path | None, library: bool) -> None:
    """The cross-border demo: US, EU and Japanese agencies issue, present, verify, suspend,
    revoke — then the services stay up for you to try (Ctrl-C stops them)."""
    if library:
        try:  # the walkthrough's output needs rich, an extra's (the demo or server extra)
            from vcred._demo import run_walkthrough
        except ModuleNotFoundError as exc:
            _fail(f"the walkthrough needs {exc.name}: pip install 'vcred[demo]'")
        sys.exit(0 if run_walkthrough(quiet=check) else 1)
    try:
        demo = importlib.import_module("vcred_demo")
    except ModuleNotFoundError as exc:
        _fail(f"the demo needs the services ({exc.name}): pip install 'vcred[server]'")
    ok = demo.run(check=check, base_port=base_port, data_dir=data_dir)
    sys.exit(0 if ok else 1)


main.add_command(wallet)


if __name__ == "__main__":  # pragma: no cover - python -m vcred.cli
    # This file runs as __main__, a copy apart from the module vcred.cli, and the trust-list
    # commands join the group below (vcred.cli_trust imports vcred.cli's helpers, so vcred.cli
    # must be imported first: importing vcred.cli_trust from here would find vcred.cli half
    # made). Run the group of vcred.cli itself, whole ("No such command 'trust-list'" before).
    from vcred.cli import main as _whole

    _whole()


# -- trust lists (vcred/cli_trust.py; imported last: it uses the helpers above) -------------------

from vcred.cli_trust import trust_list as _trust_list  # noqa: E402

main.add_command(_trust_list)
