"""The configuration of one agency's issuer: immutable, built once, handed to ``create_app``.

Sources, in order: explicit arguments (``vcred serve issuer`` options, the demo), then the
environment (``VCRED_ISSUER_*``, ``DATABASE_URL``; the gunicorn deployment), then defaults that
make ``vcred serve issuer --data-dir DIR`` work with no setup (SQLite in DIR).
"""

from __future__ import annotations

import logging
import math
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from vcred.customs.programmes import PROGRAMMES
from vcred.did.web import did_web
from vcred.errors import UsageError
from vcred.keys import KEY_KINDS, KeyKind
from vcred.status import MAX_TTL_MS, MIN_ENTRIES
from vcred.urls import http_url
from vcred_service.app import database_url
from vcred_service.config_file import duration
from vcred_service.discovery import parse_services
from vcred_service.oauth import OAuthConfig
from vcred_service.oauth import config_from_env as oauth_config_from_env
from vcred_service.oidc import OidcSettings
from vcred_service.shared_limits import check_url

_log = logging.getLogger("issuer_app")

PASSPHRASE_ENV: Final = "VCRED_ISSUER_PASSPHRASE"  # noqa: S105 - a variable name
PASSPHRASE_FILE: Final = "passphrase"  # noqa: S105 - a file name
ENV_PREFIX: Final = "VCRED_ISSUER_"
_PREFIX: Final = re.compile(r"[a-z][a-z0-9_]{0,30}|")
_COUNTRY: Final = re.compile(r"[A-Z]{2}")
#: Most ``message`` states an issuer may define: statusSize 8.
MAX_STATUS_MESSAGES: Final = 256


_DEFAULT_PUBLIC_URL: Final = "http://127.0.0.1:8000"
_OIDC_CLAIM: Final = "email"
_OIDC_SCOPES: Final = "openid email profile"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuerConfig:
    """One agency's issuer. Raises UsageError (from ``__post_init__``) for a bad value."""

    data_dir: Path
    #: The base URL clients reach this service at: status list ids and credentialStatus
    #: entries are built from it, so it must not change once credentials are issued.
    public_url: str = _DEFAULT_PUBLIC_URL
    #: A code of vcred.customs.programmes (US-CTPAT, EU-AEO, …); None: officers pick one.
    programme: str | None = None
    country: str | None = None
    authority_name: str | None = None
    #: did:web:<domain> identity (``host`` or ``host:port``); None: the keys' did:key only.
    domain: str | None = None
    #: Formats offered over the VC API; empty: every format vcred implements.
    formats: tuple[str, ...] = ()
    default_format: str = "vc+jwt"
    #: SQLAlchemy URL; None: SQLite in data_dir.
    database_url: str | None = None
    #: Table name prefix (several issuers, or test runs, in one database).
    table_prefix: str = ""
    #: Encrypts the keys kept in the database; None only in HSM-only mode (no such keys).
    passphrase: str | None = field(default=None, repr=False)
    #: A PKCS#11 module (the token's .so): keys can then be made in that HSM
    #: (``vcred issuer key add --hsm``) and sign there; see docs/hsm.md.
    hsm_module: str | None = None
    #: The label of the token in that module, and its user PIN.
    hsm_token: str | None = None
    hsm_pin: str | None = field(default=None, repr=False)
    #: Every key in the HSM: first-start and added keys are made there, a key kept in the
    #: database is refused, and no passphrase is needed (nor accepted).
    hsm_only: bool = False
    #: Keys generated at first start, in this order of preference.
    key_types: tuple[KeyKind, ...] = ("ed25519", "p256", "p384")
    insecure_no_auth: bool = False
    dev: bool = False
    #: JSON-LD contexts known beyond the bundled ones: a folder with a contexts.json manifest
    #: pinning each file's SHA-256 (vcred_service.contexts); credentials naming any other
    #: context URL are refused, and Data Integrity proofs are made with these.
    contexts_dir: Path | None = None
    #: Sign credentials with inline @context objects (when they do not change what the JSON
    #: means under the known contexts); refused by default.
    allow_inline_contexts: bool = False
    #: Fill in a VC API issue request's missing ``issuer`` with this service's DID (for a
    #: format's key); off by default: such a request is refused (400), as the VC API issuer
    #: suite expects. The officer UI names the issuer itself.
    fill_issuer: bool = False
    #: Keep each signed credential (else only its digest) — the officer UI's QR code needs it.
    store_credentials: bool = True
    #: "vc+jwt" or a Data Integrity format ("data-integrity", "eddsa-rdfc-2022", …).
    status_list_format: str = "vc+jwt"
    status_list_ttl: timedelta = timedelta(minutes=5)
    #: How long each signed status list version is kept after a newer one replaced it, for
    #: GET /status/…?timestamp= (verification as of a past moment).
    status_history_retention: timedelta = timedelta(days=400)
    status_list_capacity: int = MIN_ENTRIES
    #: The ``message`` status purpose (Bitstring Status List §2.1): the meaning of each value,
    #: 0x0 first; their number (a power of two, 2 to 256) sets the statusSize. Given, every
    #: credential also gets a ``message`` entry, set with POST /credentials/status.
    status_messages: tuple[str, ...] = ()
    #: Where those messages are documented (``statusReference``, URLs); needs status_messages.
    status_reference: tuple[str, ...] = ()
    #: How often a worker looks for keys added or retired by the CLI.
    key_refresh_seconds: float = 5.0
    #: An officer's session ends this long after sign-in, however active (absolute lifetime)…
    session_lifetime: timedelta = timedelta(hours=8)
    #: …or after this long without a request (idle timeout).
    session_idle_timeout: timedelta = timedelta(minutes=30)
    #: The four-eyes rule: a revocation or a trust list an officer asks for happens only when
    #: a second officer (a supervisor; an administrator for trust lists) approves it.
    four_eyes: bool = False
    #: Officers may also sign in through the agency's OpenID Connect provider (its issuer
    #: URL; None: local passwords only), as this client, matched on this claim (email or
    #: sub) to an existing account; with a groups claim, "group=role" items give the role.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    oidc_claim: str = _OIDC_CLAIM
    oidc_scopes: str = _OIDC_SCOPES
    oidc_groups_claim: str | None = None
    oidc_group_roles: tuple[str, ...] = ()
    idempotency_ttl: timedelta = timedelta(hours=24)
    login_rate: float = 0.2
    login_burst: int = 5
    #: /credentials/derive is public (holders have no token) and costs CPU: per client address
    derive_rate: float = 5.0
    derive_burst: int = 20
    #: VC API POST requests per second per client address, per worker (0: off, the default:
    #: every such request carries an API token, and an agency's own systems issue in batches).
    api_rate: float = 0.0
    api_burst: int = 60
    #: Redis URL whose rate-limit counters every worker and machine share (None: per worker)
    rate_limit_url: str | None = None
    #: Requests with a missing, unknown or revoked token, per second per client address: past
    #: the budget every request from that address gets a 429 before any token is looked up.
    auth_failure_rate: float = 1.0
    auth_failure_burst: int = 20
    #: OAuth 2.0 access tokens accepted beside API tokens, and the built-in token endpoint
    #: (``vcred_service.oauth``); None: API tokens only.
    oauth: OAuthConfig | None = None
    #: Service endpoints the did:web document lists besides the VC API (``KIND: URL``, kinds
    #: in ``vcred_service.discovery.SERVICE_TYPES``: oid4vci, oid4vp, vc-api-verifier,
    #: trust-list); needs a domain.
    did_services: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], datetime] = field(default=utc_now, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.contexts_dir is not None:
            object.__setattr__(self, "contexts_dir", Path(self.contexts_dir))
        _check_hsm(self)
        if http_url(self.public_url) is None:
            raise UsageError(f"public_url must be an http(s) URL, not {self.public_url!r}")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        services = parse_services([f"{k}={v}" for k, v in self.did_services.items()])
        if services and self.domain is None:
            raise UsageError("DID services are listed in the did:web document: set a domain")
        object.__setattr__(self, "did_services", MappingProxyType(services))
        if self.domain is not None:
            # did:web writes the port as %3A; take the domain either way
            object.__setattr__(self, "domain", self.domain.replace("%3A", ":").replace("%3a", ":"))
            did_web(self.domain)  # raises UsageError for a bad host
        if self.programme is not None:
            if self.programme not in PROGRAMMES:
                known = ", ".join(sorted(PROGRAMMES))
                raise UsageError(f"unknown programme {self.programme!r}; known: {known}")
            countries = PROGRAMMES[self.programme].countries
            if self.country is None and len(countries) == 1:
                object.__setattr__(self, "country", next(iter(countries)))
            if self.country is not None and self.country not in countries:
                raise UsageError(f"{self.programme} does not certify operators in {self.country}")
        if self.country is not None and not _COUNTRY.fullmatch(self.country):
            raise UsageError(f"country must be an ISO 3166-1 alpha-2 code, not {self.country!r}")
        if not _PREFIX.fullmatch(self.table_prefix):
            raise UsageError("a table prefix is lower-case letters, digits and _")
        if not self.key_types or any(kind not in KEY_KINDS for kind in self.key_types):
            raise UsageError(f"key_types must be some of {', '.join(KEY_KINDS)}")
        if self.status_list_capacity < 1:
            raise UsageError("status_list_capacity must be positive")
        if self.status_history_retention < timedelta(0):
            raise UsageError("status_history_retention must not be negative")
        if not timedelta(0) <= self.status_list_ttl <= timedelta(milliseconds=MAX_TTL_MS):
            # the lists' ttl: what a verifier would refuse is never signed
            raise UsageError(f"status_list_ttl must be from 0 to {MAX_TTL_MS // 1000} seconds")
        _check_status_messages(self.status_messages, self.status_reference)
        if self.api_rate < 0 or self.api_burst < 1 or self.auth_failure_burst < 1:
            raise UsageError("rate limits must not be negative, bursts at least 1")
        if self.rate_limit_url is not None:
            check_url(self.rate_limit_url, setting=ENV_PREFIX + "RATE_LIMIT_URL")
        if self.auth_failure_rate <= 0:
            raise UsageError("auth_failure_rate must be positive")
        if self.session_lifetime <= timedelta(0) or self.session_idle_timeout <= timedelta(0):
            raise UsageError("session_lifetime and session_idle_timeout must be positive")
        self.oidc()  # raises UsageError for an incomplete or unsafe provider setting

    def oidc(self) -> OidcSettings | None:
        """The OpenID Connect provider's settings (None: not configured)."""
        given = (self.oidc_issuer, self.oidc_client_id, self.oidc_client_secret)
        # a setting of the provider's is used or refused: alone, it would be ignored
        tuned = (self.oidc_claim, self.oidc_scopes) != (_OIDC_CLAIM, _OIDC_SCOPES)
        if (
            not any(given)
            and not tuned
            and not self.oidc_groups_claim
            and not self.oidc_group_roles
        ):
            return None
        if not all(given):
            raise UsageError(
                "OpenID Connect sign-in needs the issuer, the client id and the client secret"
            )
        if self.oidc_claim not in ("email", "sub"):
            raise UsageError(f"the officer claim is email or sub, not {self.oidc_claim!r}")
        return OidcSettings(
            issuer=str(self.oidc_issuer),
            client_id=str(self.oidc_client_id),
            client_secret=str(self.oidc_client_secret),
            claim="email" if self.oidc_claim == "email" else "sub",
            scopes=self.oidc_scopes,
            groups_claim=self.oidc_groups_claim,
            group_roles=self.oidc_group_roles,
        )

    @property
    def status_size(self) -> int:
        """Bits per ``message`` status entry (0: no message status)."""
        return status_size_for(len(self.status_messages))

    @property
    def did_web(self) -> str | None:
        return None if self.domain is None else did_web(self.domain)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url is not None:
            return database_url(self.data_dir, environ={"DATABASE_URL": self.database_url})
        return database_url(self.data_dir, environ={})

    @property
    def authority(self) -> str:
        if self.authority_name:
            return self.authority_name
        if self.programme is not None:
            return PROGRAMMES[self.programme].authority
        return "Customs issuer"

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        embedded: bool = False,
        **overrides: Any,
    ) -> IssuerConfig:
        """The configuration from ``VCRED_ISSUER_*`` variables, ``DATABASE_URL`` and overrides.

        ``embedded`` (``vcred serve issuer``, the demo): without ``VCRED_ISSUER_PASSPHRASE``
        a random passphrase is kept in the data folder (mode 600) and a warning says so;
        otherwise (gunicorn) a missing passphrase is an error unless ``VCRED_ISSUER_DEV=1``.
        """
        env = dict(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = env.get(ENV_PREFIX + name)
            return value if value not in (None, "") else None

        values: dict[str, Any] = {}
        data_dir = overrides.pop("data_dir", None) or get("DATA_DIR") or "issuer-data"
        values["data_dir"] = Path(data_dir)
        for name, key in (
            ("PUBLIC_URL", "public_url"),
            ("PROGRAMME", "programme"),
            ("COUNTRY", "country"),
            ("AUTHORITY", "authority_name"),
            ("DOMAIN", "domain"),
            ("DEFAULT_FORMAT", "default_format"),
            ("TABLE_PREFIX", "table_prefix"),
            ("STATUS_LIST_FORMAT", "status_list_format"),
            ("CONTEXTS_DIR", "contexts_dir"),
            ("RATE_LIMIT_URL", "rate_limit_url"),
            ("OIDC_ISSUER", "oidc_issuer"),
            ("OIDC_CLIENT_ID", "oidc_client_id"),
            ("OIDC_CLIENT_SECRET", "oidc_client_secret"),
            ("OIDC_CLAIM", "oidc_claim"),
            ("OIDC_SCOPES", "oidc_scopes"),
            ("OIDC_GROUPS_CLAIM", "oidc_groups_claim"),
        ):
            if get(name) is not None:
                values[key] = get(name)
        if env.get("DATABASE_URL"):
            values["database_url"] = env["DATABASE_URL"]
        if get("DID_SERVICES"):
            values["did_services"] = parse_services(get("DID_SERVICES") or "")
        if get("FORMATS"):
            values["formats"] = _split(get("FORMATS"))
        if get("KEY_TYPES"):
            values["key_types"] = _split(get("KEY_TYPES"))
        if get("OIDC_GROUP_ROLES"):
            values["oidc_group_roles"] = _split(get("OIDC_GROUP_ROLES"))
        for name, key in (
            ("STATUS_MESSAGES", "status_messages"),
            ("STATUS_REFERENCE", "status_reference"),
        ):
            if get(name):
                values[key] = _split(get(name))
        for name, key in (
            ("INSECURE_NO_AUTH", "insecure_no_auth"),
            ("DEV", "dev"),
            ("STORE_CREDENTIALS", "store_credentials"),
            ("ALLOW_INLINE_CONTEXTS", "allow_inline_contexts"),
            ("FILL_ISSUER", "fill_issuer"),
            ("FOUR_EYES", "four_eyes"),
        ):
            if get(name) is not None:
                values[key] = _flag(name, get(name))
        if get("RATE_PER_SECOND"):
            values["api_rate"] = _number("RATE_PER_SECOND", get("RATE_PER_SECOND"))
        if get("RATE_BURST"):
            values["api_burst"] = int(_number("RATE_BURST", get("RATE_BURST")))
        status_ttl = get("STATUS_TTL")
        if status_ttl is not None:
            values["status_list_ttl"] = duration(ENV_PREFIX + "STATUS_TTL", status_ttl)
        retention = get("STATUS_HISTORY_RETENTION")
        if retention is not None:
            values["status_history_retention"] = duration(
                ENV_PREFIX + "STATUS_HISTORY_RETENTION", retention
            )
        for name, key in (
            ("SESSION_LIFETIME", "session_lifetime"),
            ("SESSION_IDLE_TIMEOUT", "session_idle_timeout"),
        ):
            value = get(name)
            if value:
                values[key] = duration(ENV_PREFIX + name, value)
        values.update({k: v for k, v in overrides.items() if v is not None})
        values.update(_hsm_values(get))
        if "oauth" not in values:
            public_url = values.get("public_url") or _DEFAULT_PUBLIC_URL
            values["oauth"] = oauth_config_from_env(
                get, prefix=ENV_PREFIX, default_audience=public_url
            )
        if "passphrase" not in values and env.get(PASSPHRASE_ENV):
            values["passphrase"] = env[PASSPHRASE_ENV]
        if "passphrase" not in values and not values.get("hsm_only"):
            values["passphrase"] = load_passphrase(
                Path(values["data_dir"]),
                env,
                generate=embedded or bool(values.get("dev")),
            )
        return cls(**values)


def _check_hsm(config: IssuerConfig) -> None:
    """The key settings agree: a passphrase unless HSM-only (and none then), a module with
    its token and PIN. Raises UsageError."""
    if config.hsm_only:
        if config.hsm_module is None:
            raise UsageError("HSM-only mode needs the PKCS#11 module (VCRED_ISSUER_HSM_MODULE)")
        if config.passphrase is not None:
            raise UsageError(
                "in HSM-only mode no key is kept outside the HSM: a passphrase is not used "
                f"(unset {PASSPHRASE_ENV})"
            )
    elif not config.passphrase:
        raise UsageError("the key passphrase must not be empty")
    if config.hsm_module is None:
        if config.hsm_token is not None or config.hsm_pin is not None:
            raise UsageError("a PKCS#11 token and PIN need the module (VCRED_ISSUER_HSM_MODULE)")
        return
    if not config.hsm_token:
        raise UsageError("name the PKCS#11 token's label (VCRED_ISSUER_HSM_TOKEN)")
    if not config.hsm_pin:
        raise UsageError(
            "give the PKCS#11 token's PIN (VCRED_ISSUER_HSM_PIN or VCRED_ISSUER_HSM_PIN_FILE)"
        )


def _hsm_values(get: Callable[[str], str | None]) -> dict[str, Any]:
    """The HSM settings from ``VCRED_ISSUER_HSM_*``; the PIN from the variable or a file
    (never both). Raises UsageError."""
    values: dict[str, Any] = {}
    for name, key in (("HSM_MODULE", "hsm_module"), ("HSM_TOKEN", "hsm_token")):
        if get(name) is not None:
            values[key] = get(name)
    pin, pin_file = get("HSM_PIN"), get("HSM_PIN_FILE")
    if pin is not None and pin_file is not None:
        raise UsageError(f"set {ENV_PREFIX}HSM_PIN or {ENV_PREFIX}HSM_PIN_FILE, not both")
    if pin_file is not None:
        try:
            pin = Path(pin_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the PKCS#11 PIN file {pin_file}: {exc}") from exc
    if pin is not None:
        values["hsm_pin"] = pin
    if get("HSM_ONLY") is not None:
        values["hsm_only"] = _flag("HSM_ONLY", get("HSM_ONLY"))
    return values


def status_size_for(count: int) -> int:
    """The statusSize of ``count`` messages, one per value (§2.1): log2; 0 for none."""
    return max(count.bit_length() - 1, 0)


def _check_status_messages(messages: tuple[str, ...], references: tuple[str, ...]) -> None:
    """2, 4, … 256 non-empty messages (§2.1: one per value of statusSize bits); http(s) URLs."""
    if references and not messages:
        raise UsageError("status_reference documents status_messages: give those too")
    if not messages:
        return
    count = len(messages)
    if not 2 <= count <= MAX_STATUS_MESSAGES or count & (count - 1):
        raise UsageError(
            f"status_messages must number a power of two from 2 to {MAX_STATUS_MESSAGES} "
            f"(one per value of the statusSize bits), not {count}"
        )
    if not all(isinstance(m, str) and m.strip() for m in messages):
        raise UsageError("status_messages must be non-empty strings")
    for url in references:
        if http_url(url) is None:
            raise UsageError(f"status_reference must be http(s) URLs, not {url!r}")


def load_passphrase(data_dir: Path, environ: Mapping[str, str], *, generate: bool) -> str:
    """The key passphrase: ``VCRED_ISSUER_PASSPHRASE``, else the file in the data folder.

    With ``generate`` and neither present, a random one is written to ``DIR/passphrase``
    (mode 600) and a warning is logged (with the path, never the passphrase). Raises
    UsageError when there is none and none may be generated.
    """
    given = environ.get(PASSPHRASE_ENV)
    if given:
        return given
    path = data_dir / PASSPHRASE_FILE
    if path.exists():
        _log.warning(
            "the keys are encrypted with the passphrase kept in %s; "
            "set %s in production and remove that file",
            path,
            PASSPHRASE_ENV,
        )
        return path.read_text(encoding="utf-8").strip()
    if not generate:
        raise UsageError(
            f"set {PASSPHRASE_ENV}: the passphrase that encrypts the issuer's keys at rest"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    passphrase = secrets.token_urlsafe(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use that one
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(passphrase + "\n")
    _log.warning(
        "%s is not set: a random passphrase for the keys was created in %s (mode 600); "
        "anyone who can read that file can use the keys",
        PASSPHRASE_ENV,
        path,
    )
    return passphrase


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _flag(name: str, value: str | None) -> bool:
    lowered = (value or "").lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"{ENV_PREFIX}{name} must be 1 or 0, not {value!r}")


def _number(name: str, value: str | None) -> float:
    try:
        number = float(value or "")
    except ValueError as exc:
        raise UsageError(f"{ENV_PREFIX}{name} must be a number") from exc
    if not math.isfinite(number):  # nan, inf, 1e400: no rate or duration
        raise UsageError(f"{ENV_PREFIX}{name} must be a finite number")
    return number
