"""The verifier service's configuration: one frozen value, from arguments or the environment.

``vcred serve verifier`` builds it from its options; ``gunicorn 'verifier_app:create_app()'``
from the environment (:meth:`VerifierConfig.from_env`, variables listed in
``docs/services.md``). Nothing reads the environment after the app is created.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Final

from vcred.errors import UsageError
from vcred.status import DEFAULT_STATUS_MAX_AGE
from vcred.trust import TrustAnchor
from vcred.verifier import DEFAULT_TIME_BUDGET, check_bearer_types, utc_now
from vcred_service.config_file import duration

ENV_PREFIX: Final = "VCRED_VERIFIER_"
DEFAULT_DATA_DIR: Final = "vcred-verifier"
DEFAULT_DOMAIN: Final = "localhost"
_TABLE_PREFIX: Final = re.compile(r"[a-z][a-z0-9_]{0,30}")
#: The longest duration a variable may set (a TTL, a staleness bound): past it, a typo.


def parse_host_map(entries: str | tuple[str, ...] | list[str]) -> dict[str, str]:
    """``HOST=ORIGIN`` pairs (a list, or one comma-separated string) as a mapping.

    Raises UsageError for an entry without ``=`` or an origin that is not http(s).
    """
    items = entries.split(",") if isinstance(entries, str) else list(entries)
    mapping: dict[str, str] = {}
    for raw in items:
        entry = raw.strip()
        if not entry:
            continue
        host, sep, origin = entry.partition("=")
        if not sep or not host or not origin.startswith(("http://", "https://")):
            raise UsageError(f"a host map entry is HOST=http(s)://ORIGIN, not {entry!r}")
        mapping[host.strip()] = origin.strip().rstrip("/")
    return mapping


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifierConfig:
    """Everything a verifier service needs to start; immutable once built.

    ``trust_list``: a signed ``MRATrustListCredential`` file; ``trust_issuer`` (required with
    it) and ``trust_method``: the trust anchor that must have signed it — the agency's DID
    and its trust-list key (the verification method; default: the DID's ``#trust-list-…``
    key role, see :class:`vcred.trust.TrustAnchor`). Without a trust list the trust check is
    reported as not evaluated (DESIGN §6).
    ``domain``: what presentations must be bound to. ``allow_caller_challenges``: also accept
    a presentation bound to a challenge this verifier did not issue (``options.challenge`` of
    an API client that runs its own challenge store; then ``options.domain``, if given, is the
    domain to check): such a challenge is NOT single-use here (off by default).
    ``dev``: fetch over http and from private addresses (never in production).
    ``host_map``: did:web host → local origin.
    ``offline``: never fetch; answer from the caches (their age is reported).
    ``max_stale``: how long past its TTL a did:web document may still serve while its host is
    unreachable. ``status_max_age``: how long after it was fetched a status list may still
    answer when it cannot be fetched again (host unreachable, offline); past it the status is
    STATUS_UNAVAILABLE. Each bounds its own cache; neither widens the other.
    ``database_url``: SQLAlchemy URL (default: SQLite in ``data_dir``).
    ``contexts_dir``: a folder of JSON-LD contexts known beyond the bundled ones, each pinned
    by its SHA-256 in the folder's ``contexts.json`` (``vcred_service.contexts``).
    ``allow_inline_contexts``: accept inline ``@context`` objects when they do not change
    what was signed (refused by default).
    ``clock``: the current time (tests pass a fixed one).
    ``time_budget``: what all fetches of one verification share (``Verifier.time_budget``).
    ``bearer_types``: credential types anyone may present without holder binding (never a
    customs type: refused).
    """

    data_dir: Path = field(default_factory=lambda: Path(DEFAULT_DATA_DIR))
    trust_list: Path | None = None
    trust_issuer: str | None = None
    trust_method: str | None = None
    #: Where the anchor's agency publishes its trust list (mirrors, tried in order): the list
    #: is fetched at start, refreshed before its nextUpdate and on demand (docs/trust-fabric.md).
    trust_list_urls: tuple[str, ...] = ()
    #: How long past a list's nextUpdate it still decides, when no newer one could be fetched.
    trust_grace: timedelta = timedelta(hours=1)
    #: How long before nextUpdate the next list is fetched.
    trust_refresh_before: timedelta = timedelta(minutes=10)
    domain: str = DEFAULT_DOMAIN
    service_name: str | None = None
    dev: bool = False
    host_map: Mapping[str, str] = field(default_factory=dict)
    offline: bool = False
    # JSON-LD contexts
    contexts_dir: Path | None = None
    allow_inline_contexts: bool = False
    # limits
    max_body_bytes: int = 512 * 1024
    max_json_depth: int = 64
    max_presented_credentials: int = 16
    max_image_bytes: int = 4 * 1024 * 1024
    # rate limiting of the public endpoints, per client address (0 turns it off)
    rate_per_second: float = 5.0
    rate_burst: int = 30
    proxy_hops: int = 0
    # presentations
    challenge_ttl: timedelta = timedelta(minutes=5)
    bearer_types: frozenset[str] = frozenset()
    allow_caller_challenges: bool = False
    # caches
    did_cache_ttl: timedelta = timedelta(minutes=5)
    status_cache_ttl: timedelta = timedelta(minutes=5)
    max_stale: timedelta = timedelta(days=7)
    status_max_age: timedelta = DEFAULT_STATUS_MAX_AGE
    # what every fetch of one verification shares (DID documents, status lists)
    time_budget: timedelta = DEFAULT_TIME_BUDGET
    # storage
    database_url: str | None = None
    table_prefix: str = "verifier_"
    history_size: int = 1000
    # officer sign-in (the history pages): sessions end after idle time or at their lifetime
    session_idle_timeout: timedelta = timedelta(minutes=30)
    session_lifetime: timedelta = timedelta(hours=8)
    login_rate: float = 0.2
    login_burst: int = 5
    clock: Callable[[], datetime] = utc_now

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.trust_list is not None:
            object.__setattr__(self, "trust_list", Path(self.trust_list))
        if self.contexts_dir is not None:
            object.__setattr__(self, "contexts_dir", Path(self.contexts_dir))
        object.__setattr__(self, "host_map", MappingProxyType(dict(self.host_map)))
        object.__setattr__(self, "trust_list_urls", tuple(self.trust_list_urls))
        self.trust_anchor()  # refuse an unusable anchor now, not at the first start
        object.__setattr__(self, "bearer_types", check_bearer_types(self.bearer_types))
        if not _TABLE_PREFIX.fullmatch(self.table_prefix):
            raise UsageError("table_prefix: lower-case letters, digits and _, at most 31")
        positive = {
            "max_body_bytes": self.max_body_bytes,
            "max_json_depth": self.max_json_depth,
            "max_presented_credentials": self.max_presented_credentials,
            "max_image_bytes": self.max_image_bytes,
            "rate_burst": self.rate_burst,
            "history_size": self.history_size,
            "login_burst": self.login_burst,
        }
        for name, value in positive.items():
            if value < 1:
                raise UsageError(f"{name} must be at least 1")
        if self.rate_per_second < 0 or self.proxy_hops < 0:
            raise UsageError("rate_per_second and proxy_hops must not be negative")
        if self.challenge_ttl <= timedelta(0):
            raise UsageError("challenge_ttl must be positive")
        if self.status_max_age <= timedelta(0):
            raise UsageError("status_max_age must be positive")
        if self.session_idle_timeout <= timedelta(0) or self.session_lifetime <= timedelta(0):
            raise UsageError("session_idle_timeout and session_lifetime must be positive")
        if self.login_rate <= 0:
            raise UsageError("login_rate must be positive")
        if self.time_budget <= timedelta(0):
            raise UsageError("time_budget must be positive")
        if not self.domain or any(c.isspace() for c in self.domain):
            raise UsageError("domain must be a non-empty string without spaces")

    def trust_anchor(self) -> TrustAnchor | None:
        """Who must have signed the trust list (None without one). Raises UsageError for a
        trust list without ``trust_issuer``, or ``trust_issuer`` / ``trust_method`` without a
        trust list (an option that would do nothing is refused)."""
        if self.trust_list is not None and self.trust_list_urls:
            raise UsageError("give a trust_list file or trust_list_urls, not both")
        for url in self.trust_list_urls:
            if not url.startswith(("https://", "http://")):
                raise UsageError(f"a trust list URL is http(s), not {url[:100]!r}")
            if url.startswith("http://") and not self.dev:
                raise UsageError(f"{url[:100]} is not https: only with dev")
        if self.trust_grace < timedelta(0) or self.trust_refresh_before < timedelta(0):
            raise UsageError("trust_grace and trust_refresh_before must not be negative")
        if self.trust_list is None and not self.trust_list_urls:
            if self.trust_issuer is not None or self.trust_method is not None:
                raise UsageError("trust_issuer and trust_method need a trust_list")
            return None
        if self.trust_issuer is None:
            raise UsageError(
                "a trust list is loaded only under its trust anchor: give trust_issuer (the "
                "DID of the agency that signs it)"
            )
        return TrustAnchor(did=self.trust_issuer, method=self.trust_method)

    @property
    def storage_url(self) -> str:
        """``database_url``, or SQLite in the data folder."""
        if self.database_url:
            url = self.database_url
            if url.startswith(("postgresql://", "postgres://")):  # name the driver we ship
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{self.data_dir.resolve() / 'verifier.db'}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> VerifierConfig:
        """A configuration from ``VCRED_VERIFIER_*`` variables and ``DATABASE_URL``.

        Raises UsageError naming the variable whose value is unusable.
        """
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(ENV_PREFIX + name)
            return value if value not in (None, "") else None

        options: dict[str, object] = {}
        for name, key in (
            ("DATA_DIR", "data_dir"),
            ("TRUST_LIST", "trust_list"),
            ("TRUST_ISSUER", "trust_issuer"),
            ("TRUST_METHOD", "trust_method"),
            ("DOMAIN", "domain"),
            ("NAME", "service_name"),
            ("TABLE_PREFIX", "table_prefix"),
            ("CONTEXTS_DIR", "contexts_dir"),
        ):
            value = get(name)
            if value is not None:
                options[key] = value
        for name, key in (
            ("DEV", "dev"),
            ("OFFLINE", "offline"),
            ("ALLOW_INLINE_CONTEXTS", "allow_inline_contexts"),
            ("ALLOW_CALLER_CHALLENGES", "allow_caller_challenges"),
        ):
            value = get(name)
            if value is not None:
                options[key] = _flag(ENV_PREFIX + name, value)
        for name, key in (
            ("MAX_BODY_BYTES", "max_body_bytes"),
            ("MAX_JSON_DEPTH", "max_json_depth"),
            ("MAX_PRESENTED_CREDENTIALS", "max_presented_credentials"),
            ("RATE_BURST", "rate_burst"),
            ("PROXY_HOPS", "proxy_hops"),
            ("HISTORY_SIZE", "history_size"),
        ):
            value = get(name)
            if value is not None:
                options[key] = _number(ENV_PREFIX + name, value, int)
        value = get("RATE_PER_SECOND")
        if value is not None:
            options["rate_per_second"] = _number(ENV_PREFIX + "RATE_PER_SECOND", value, float)
        for name, key in (
            ("CHALLENGE_TTL", "challenge_ttl"),
            ("DID_CACHE_TTL", "did_cache_ttl"),
            ("STATUS_CACHE_TTL", "status_cache_ttl"),
            ("MAX_STALE", "max_stale"),
            ("STATUS_MAX_AGE", "status_max_age"),
            ("SESSION_IDLE_TIMEOUT", "session_idle_timeout"),
            ("SESSION_LIFETIME", "session_lifetime"),
            ("TIME_BUDGET", "time_budget"),
            ("TRUST_GRACE", "trust_grace"),
            ("TRUST_REFRESH_BEFORE", "trust_refresh_before"),
        ):
            value = get(name)
            if value is not None:
                options[key] = duration(ENV_PREFIX + name, value)
        value = get("HOST_MAP")
        if value is not None:
            options["host_map"] = parse_host_map(value)
        value = get("TRUST_LIST_URLS")
        if value is not None:
            options["trust_list_urls"] = tuple(u.strip() for u in value.split(",") if u.strip())
        value = get("BEARER_TYPES")
        if value is not None:
            options["bearer_types"] = frozenset(t.strip() for t in value.split(",") if t.strip())
        if env.get("DATABASE_URL"):
            options["database_url"] = env["DATABASE_URL"]
        return cls(**options)  # type: ignore[arg-type]


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"{name} must be true or false, not {value!r}")


def _number(name: str, value: str, kind: type[int] | type[float]) -> float:
    try:
        number = kind(value)
    except ValueError as exc:
        raise UsageError(f"{name} must be a number, not {value[:40]!r}") from exc
    if not math.isfinite(number):
        raise UsageError(f"{name} must be a finite number, not {value[:40]!r}")
    return number
