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

from vcred.errors import UsageError, VcredError
from vcred.net import host_map_of, mapped_origin
from vcred.status import DEFAULT_STATUS_MAX_AGE
from vcred.trust import TrustAnchor
from vcred.urls import http_url
from vcred.verifier import DEFAULT_TIME_BUDGET, check_bearer_types, utc_now
from vcred_service.config_file import duration
from vcred_service.oauth import OAuthConfig
from vcred_service.oauth import config_from_env as oauth_config_from_env
from vcred_service.oidc import OidcSettings
from vcred_service.shared_limits import check_url

ENV_PREFIX: Final = "VCRED_VERIFIER_"
DEFAULT_DATA_DIR: Final = "vcred-verifier"
DEFAULT_DOMAIN: Final = "localhost"
_TABLE_PREFIX: Final = re.compile(r"[a-z][a-z0-9_]{0,30}")
#: The longest duration a variable may set (a TTL, a staleness bound): past it, a typo.


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
    ``max_batch_size`` / ``max_batch_body_bytes``: the most items, and bytes, one batch
    verification may carry; ``batch_processes``: the processes a batch is spread over
    (:func:`vcred.verify_many`; 1 verifies in the request's own thread).
    ``receipt_key``: a private key file (JWK, Multikey or PEM) that signs verification
    receipts (``options.receipt``; without it they are refused); ``receipt_issuer``: the DID
    it signs as (default: its did:key; a did:web must publish the key).
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
    # batch verification (POST /credentials/verify-batch): items, body size, worker processes
    max_batch_size: int = 1000
    max_batch_body_bytes: int = 8 * 1024 * 1024
    batch_processes: int = 1
    # verification receipts (options.receipt): the signing key, and whom it signs as
    receipt_key: Path | None = None
    receipt_issuer: str | None = None
    # rate limiting of the public endpoints, per client address (0 turns it off)
    rate_per_second: float = 5.0
    rate_burst: int = 30
    #: Redis URL whose counters every worker and machine share (None: per worker)
    rate_limit_url: str | None = None
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
    #: How often a background thread re-checks the status of every live recognition (0: no
    #: thread; run ``vcred verifier recognitions refresh`` from cron instead). Keep it well
    #: under status_max_age: a recognition whose last check is older answers STATUS_UNKNOWN.
    recognition_refresh: timedelta = timedelta(minutes=15)
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
    # OAuth 2.0 (vcred_service.oauth): with it, the VC API needs an access token with the
    # verify scope; None: the VC API is open (DESIGN §6)
    oauth: OAuthConfig | None = None
    # the base URL wallets reach the verifier at (OpenID4VP request and response URIs);
    # None: https://DOMAIN (http for localhost and 127.0.0.1)
    public_url: str | None = None
    # officers may also sign in through the agency's OpenID Connect provider, which sends
    # them back to oidc_redirect_uri (this service's /login/oidc/callback, as they reach it)
    oidc: OidcSettings | None = None
    oidc_redirect_uri: str | None = None
    clock: Callable[[], datetime] = utc_now

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        if self.trust_list is not None:
            object.__setattr__(self, "trust_list", Path(self.trust_list))
        if self.contexts_dir is not None:
            object.__setattr__(self, "contexts_dir", Path(self.contexts_dir))
        if self.receipt_key is not None:
            object.__setattr__(self, "receipt_key", Path(self.receipt_key))
        elif self.receipt_issuer is not None:
            raise UsageError("receipt_issuer needs a receipt_key")
        object.__setattr__(self, "host_map", MappingProxyType(dict(self.host_map)))
        fetched_jwks = self.oauth is not None and any(t.jwks_is_url for t in self.oauth.issuers)
        if self.offline and fetched_jwks:
            raise UsageError("offline, an OAuth issuer's JWKS must be a file, not a URL")
        if self.public_url is not None:
            if http_url(self.public_url) is None:
                raise UsageError(f"public_url must be an http(s) URL, not {self.public_url!r}")
            object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
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
            "max_batch_size": self.max_batch_size,
            "max_batch_body_bytes": self.max_batch_body_bytes,
            "batch_processes": self.batch_processes,
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
        if self.recognition_refresh < timedelta(0):
            raise UsageError("recognition_refresh must not be negative")
        if self.session_idle_timeout <= timedelta(0) or self.session_lifetime <= timedelta(0):
            raise UsageError("session_idle_timeout and session_lifetime must be positive")
        if self.login_rate <= 0:
            raise UsageError("login_rate must be positive")
        if self.rate_limit_url is not None:
            check_url(self.rate_limit_url, setting=ENV_PREFIX + "RATE_LIMIT_URL")
        if (self.oidc is None) != (self.oidc_redirect_uri is None):
            raise UsageError("OpenID Connect sign-in needs its settings and its redirect URI")
        if self.oidc_redirect_uri is not None and http_url(self.oidc_redirect_uri) is None:
            raise UsageError("the OpenID Connect redirect URI must be an http(s) URL")
        if self.oidc is not None and self.oidc.groups_claim:
            raise UsageError("the verifier's officers have no roles: no groups claim")
        if self.time_budget <= timedelta(0):
            raise UsageError("time_budget must be positive")
        if not self.domain or any(c.isspace() for c in self.domain):
            raise UsageError("domain must be a non-empty string without spaces")

    @property
    def base_url(self) -> str:
        """Where wallets reach this verifier: public_url, else https://DOMAIN (http on
        localhost, for development)."""
        if self.public_url is not None:
            return self.public_url
        local = self.domain.split(":")[0] in ("localhost", "127.0.0.1")
        return f"{'http' if local else 'https'}://{self.domain}"

    def _mapped(self, url: str) -> bool:
        """Whether ``host_map`` sends ``url``'s host to a local origin (http allowed there)."""
        try:
            return mapped_origin(self.host_map, url) is not None
        except VcredError:  # unreadable: not fetched at all, refused below as not https
            return False

    def trust_anchor(self) -> TrustAnchor | None:
        """Who must have signed the trust list (None without one). Raises UsageError for a
        trust list without ``trust_issuer``, or ``trust_issuer`` / ``trust_method`` without a
        trust list (an option that would do nothing is refused)."""
        if self.trust_list is not None and self.trust_list_urls:
            raise UsageError("give a trust_list file or trust_list_urls, not both")
        for url in self.trust_list_urls:
            if not url.startswith(("https://", "http://")):
                raise UsageError(f"a trust list URL is http(s), not {url[:100]!r}")
            if url.startswith("http://") and not self.dev and not self._mapped(url):
                raise UsageError(
                    f"{url[:100]} is not https: only for a host in host_map (a local "
                    "issuer: --host-map HOST=ORIGIN) or with dev"
                )
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
            ("RATE_LIMIT_URL", "rate_limit_url"),
            ("PUBLIC_URL", "public_url"),
            ("RECEIPT_KEY", "receipt_key"),
            ("RECEIPT_ISSUER", "receipt_issuer"),
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
            ("MAX_BATCH_SIZE", "max_batch_size"),
            ("MAX_BATCH_BODY_BYTES", "max_batch_body_bytes"),
            ("BATCH_PROCESSES", "batch_processes"),
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
            ("RECOGNITION_REFRESH", "recognition_refresh"),
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
            options["host_map"] = host_map_of(value)
        value = get("TRUST_LIST_URLS")
        if value is not None:
            options["trust_list_urls"] = tuple(u.strip() for u in value.split(",") if u.strip())
        value = get("BEARER_TYPES")
        if value is not None:
            options["bearer_types"] = frozenset(t.strip() for t in value.split(",") if t.strip())
        if env.get("DATABASE_URL"):
            options["database_url"] = env["DATABASE_URL"]
        options["oauth"] = oauth_config_from_env(get, prefix=ENV_PREFIX, default_audience=None)
        issuer, client_id, secret = (
            get(f"OIDC_{n}") for n in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET")
        )
        # a setting of the provider's is used or refused: alone, it would be ignored
        if any(
            get(f"OIDC_{n}")
            for n in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET", "REDIRECT_URI", "CLAIM", "SCOPES")
        ):
            if not (issuer and client_id and secret):
                raise UsageError(
                    f"{ENV_PREFIX}OIDC_ISSUER, _OIDC_CLIENT_ID and _OIDC_CLIENT_SECRET go together"
                )
            claim = get("OIDC_CLAIM") or "email"
            if claim not in ("email", "sub"):
                raise UsageError(f"{ENV_PREFIX}OIDC_CLAIM is email or sub, not {claim!r}")
            options["oidc"] = OidcSettings(
                issuer=issuer,
                client_id=client_id,
                client_secret=secret,
                claim="email" if claim == "email" else "sub",
                scopes=get("OIDC_SCOPES") or "openid email profile",
            )
            options["oidc_redirect_uri"] = get("OIDC_REDIRECT_URI")
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
