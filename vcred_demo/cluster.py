"""Starting the demo's services in this process: an issuer per agency, a verifier per MRA
partner, each on its own port and data folder, did:web names mapped to those ports.

Each verifying agency publishes its signed MRA trust list at its issuer's stable URL
(``/trust-lists/current``), pinning its partners' signing keys; its verifier fetches the list
from there and refreshes it without a restart.
"""

from __future__ import annotations

import logging
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask

from issuer_app import create_app as create_issuer
from issuer_app.app import issuer_of
from issuer_app.config import IssuerConfig
from vcred.customs.programmes import registry_paths, use_registry
from vcred.trust import build_trust_list, list_digest
from vcred.trustfeed import RefreshReport
from vcred_demo.http import post
from vcred_demo.topology import AGENCIES, Agency, demo_registry
from vcred_service.runner import serving
from verifier_app import create_app as create_verifier
from verifier_app.config import VerifierConfig
from verifier_app.service import VerifierService

OFFICER = "officer"
# Status lists are re-fetched after this long: short, so a partner sees a change at once.
STATUS_TTL = timedelta(seconds=1)
# So are DID documents (a partner's new key).
DID_CACHE_TTL = timedelta(seconds=1)
RECOGNITION_REFRESH = timedelta(seconds=1)


@dataclass(slots=True)
class IssuerHandle:
    agency: Agency
    url: str
    token: str
    officer_password: str
    app: Flask


@dataclass(slots=True)
class VerifierHandle:
    agency: Agency
    url: str
    officer_password: str
    app: Flask


@dataclass(slots=True)
class Cluster:
    """Every running service of the demo, by programme code."""

    data_dir: Path
    issuers: dict[str, IssuerHandle] = field(default_factory=dict)
    verifiers: dict[str, VerifierHandle] = field(default_factory=dict)
    host_map: dict[str, str] = field(default_factory=dict)
    #: per verifying agency: the sequence number and secured form of its published list
    published: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: What had to move: one sentence per service whose port was taken (said, not silent).
    moved: list[str] = field(default_factory=list)
    progress: Callable[[str], None] = lambda _: None
    #: what stop() undoes, last started first: each server, each service's close
    _started: ExitStack = field(default_factory=ExitStack)

    def serve(self, app: Flask, port: int, *, name: str = "a service") -> str:
        """Serve ``app`` on loopback (``port``, or any free port when it is taken or 0)."""
        server = self._started.enter_context(serving(app, port=_usable(port)))
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the demo's screen stays clean
        if port and server.server_port != port:
            self.moved.append(
                f"port {port} is taken (another demo still running?): "
                f"the {name} is on port {server.server_port} instead"
            )
            self.progress(self.moved[-1])
        return f"http://127.0.0.1:{server.server_port}"

    def start_issuer(self, agency: Agency, port: int) -> IssuerHandle:
        folder = self.data_dir / f"issuer-{agency.programme.lower()}"
        # the port is only known once bound: bind first, then tell the issuer its public URL
        config = IssuerConfig(
            data_dir=folder,
            public_url=f"https://{agency.domain}",  # what partners fetch, mapped to the port
            programme=agency.programme,
            country=agency.country,
            domain=agency.domain,
            passphrase=secrets.token_urlsafe(24),
            status_list_ttl=STATUS_TTL,
        )
        app = create_issuer(config)
        # closed after its server stopped: no request is under way in it then
        self._started.callback(issuer_of(app).close)
        # The officer pages are served over plain http on loopback for the demo.
        app.config["SESSION_COOKIE_SECURE"] = False
        url = self.serve(app, port, name=f"{agency.label} issuer")
        self.host_map[agency.domain] = url
        service = issuer_of(app)
        token = service.create_token(["issue", "status", "admin"], label="demo", actor="demo").token
        password = "demo-" + secrets.token_urlsafe(12)
        service.add_officer(OFFICER, password, role="administrator", actor="demo")
        handle = IssuerHandle(agency, url, token, password, app)
        self.issuers[agency.programme] = handle
        return handle

    def pinned_keys(self, programme: str) -> list[dict[str, str]]:
        """The partner's signing keys as a trust list pins them: each from its creation (to
        the second) until its retirement, if retired."""
        keys = issuer_of(self.issuers[programme].app).keyring().keys
        pins = []
        for key in keys:
            created = _moment(key.created).replace(microsecond=0)
            pin = {"jwkThumbprint": key.public.thumbprint(), "notBefore": _stamp(created)}
            if key.retired is not None:
                pin["notAfter"] = _stamp(_moment(key.retired))
            pins.append(pin)
        return pins

    def publish_trust_list(self, agency: Agency, now: datetime) -> str:
        """Sign the agency's next MRA trust list with its issuer service's trust-list key and
        publish it at the issuer's /trust-lists/current; the secured list (a vc+jwt)."""
        recognised = [
            {
                "issuer": _agency(programme).did,
                "name": _agency(programme).label,
                "programme": programme,
                "country": country,
                "acceptedCredentialTypes": [
                    "AEOCertificateCredential",
                    "ExportBillingAttestation",
                ],
                "pinnedKeys": self.pinned_keys(programme),
            }
            for programme, country in agency.partners
        ]
        previous = self.published.get(agency.programme)
        sequence = 1 if previous is None else previous[0] + 1
        unsigned = build_trust_list(
            recognised,
            issuer=agency.did,
            programme=agency.programme,
            authority_country=agency.country if agency.programme == "EU-AEO" else None,
            valid_from=now - timedelta(days=1),
            valid_until=now + timedelta(days=365),
            credential_id=f"urn:vcred:demo:trust-list:{agency.programme.lower()}",
            sequence=sequence,
            next_update=now + timedelta(days=1),
            replaces=None if previous is None else (previous[0], list_digest(previous[1])),
        )
        issuer = self.issuers[agency.programme]
        # Trust lists have their own authority: a token of the trust-list scope, and the
        # issuer's trust-list key (#trust-list-…), which the verifier's anchor asks for.
        token = (
            issuer_of(issuer.app)
            .create_token(["trust-list"], label="demo trust list", actor="demo")
            .token
        )
        reply = post(
            f"{issuer.url}/trust-lists/issue",
            {"credential": unsigned, "options": {"format": "vc+jwt"}},
            token=token,
        )
        if reply.status != 201:
            raise RuntimeError(f"signing the {agency.programme} trust list: {reply.body}")
        secured = str(reply.body["verifiableCredential"]["id"]).split(",", 1)[1]
        self.published[agency.programme] = (sequence, secured)
        return secured

    def rotate_key(self, programme: str) -> tuple[str, str]:
        """The agency replaces its Ed25519 signing key: a new one, the old one retired (it
        still verifies what it signed). The (old, new) key tags."""
        service = issuer_of(self.issuers[programme].app)
        old = next(k for k in service.keyring().current if k.kind == "ed25519")
        new = service.add_key("ed25519", actor="demo")
        service.retire_key(old.tag, actor="demo")
        return old.tag, new.tag

    def refresh_trust(self, programme: str) -> RefreshReport:
        """What an officer's "refresh the trust list" does: fetch it now, no restart."""
        return _verifier_service(self.verifiers[programme].app).refresh_trust()

    def start_verifier(self, agency: Agency, port: int) -> VerifierHandle:
        config = VerifierConfig(
            data_dir=self.data_dir / f"verifier-{agency.programme.lower()}",
            trust_list_urls=(f"https://{agency.domain}/trust-lists/current",),
            trust_issuer=agency.did,
            # a partner's rotated key is seen at once (production keeps minutes)
            did_cache_ttl=DID_CACHE_TTL,
            domain=agency.verifier_domain,
            service_name=f"{agency.label} — verifier",
            host_map=dict(self.host_map),
            rate_per_second=0,  # the demo sends bursts; production keeps the limit
            # recognitions re-checked every second (production: minutes, under the bound)
            recognition_refresh=RECOGNITION_REFRESH,
        )
        app = create_verifier(config)
        self._started.callback(_verifier_service(app).close)
        password = "demo-" + secrets.token_urlsafe(12)
        app.extensions["vcred_verifier"].add_officer(OFFICER, password)
        url = self.serve(app, port, name=f"{agency.label} verifier")
        # wallets reach its OpenID4VP request and response URIs (https://verify.…) here
        self.host_map[agency.verifier_domain] = url
        handle = VerifierHandle(agency, url, password, app)
        self.verifiers[agency.programme] = handle
        return handle

    def stop(self) -> None:
        """Stop every server, then close every service (their background threads, database
        engines and history spools), the last started first."""
        self._started.close()


def _agency(programme: str) -> Agency:
    return next(a for a in AGENCIES if a.programme == programme)


def _verifier_service(app: Flask) -> VerifierService:
    found: VerifierService = app.extensions["vcred_verifier"]
    return found


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _usable(port: int) -> int:
    if port == 0:
        return 0
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return 0  # taken: any free port will do; the demo prints the URLs it uses
    return port


@contextmanager
def started(
    data_dir: Path,
    *,
    base_port: int,
    now: datetime | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Iterator[Cluster]:
    """Start every issuer, sign the trust lists, start the verifiers; stop them on exit.

    ``base_port`` 0 picks free ports everywhere (tests); otherwise the defaults of
    :data:`~vcred_demo.topology.AGENCIES` shifted by ``base_port - 8100``.
    """
    cluster = Cluster(data_dir=data_dir, progress=progress)
    moment = now or datetime.now(UTC)

    def port(default: int) -> int:
        return 0 if base_port == 0 else default - 8100 + base_port

    data_dir.mkdir(parents=True, exist_ok=True)
    extension = demo_registry(data_dir, moment.date())
    progress(f"registry: the bundled programmes and arrangements, and {extension.name}")
    previous = use_registry(registry_paths([extension]))
    try:
        for agency in AGENCIES:
            progress(f"starting the {agency.label} issuer ({agency.did})")
            cluster.start_issuer(agency, port(agency.issuer_port))
        for agency in AGENCIES:
            if agency.verifier_port is None:
                continue
            progress(f"{agency.label}: publishing its MRA trust list, starting its verifier")
            cluster.publish_trust_list(agency, moment)
            cluster.start_verifier(agency, port(agency.verifier_port))
        yield cluster
    finally:
        cluster.stop()
        use_registry(previous)
