"""Officer sign-in through the agency's OpenID Connect provider (Authlib, joserfc).

The authorization code flow with PKCE (RFC 7636, S256), as OpenID Connect Core 1.0 §3.1
describes it:

1. :meth:`OidcClient.begin` makes a fresh ``state``, ``nonce`` and PKCE ``code_verifier`` and
   the provider's authorization URL; the three are kept in the browser's signed Flask session
   (they grant nothing by themselves) until the provider sends the officer back;
2. :meth:`OidcClient.finish` checks the returned ``state`` (constant time), exchanges the code
   with the verifier at the token endpoint (client_secret_basic), and verifies the
   ``id_token``: its signature with a key of the provider's JWKS under an algorithm *this*
   client allows (never ``none``, never an HMAC: RFC 8725 §3.1), ``iss`` equal to the
   configured issuer, ``aud`` holding the client id, ``exp``/``iat`` against the service's
   clock, the ``nonce`` equal to the one sent, ``at_hash`` when present (Core §3.1.3.7).

The officer is then the *existing* account named by the configured claim (``email`` — only
when ``email_verified`` is true — or ``sub``); nobody gets an account by signing in. The
role is the account's, or, with a groups mapping configured, the highest role one of the
officer's groups maps to (no mapped group: refused).

The provider's URL is configuration, not input: its discovery document and JWKS are fetched
from it (https, or http on a loopback address for tests) and its ``issuer`` must equal it
(OpenID Connect Discovery §4.3). Every answer of the provider — those two and the token
endpoint's — is read by vcred.net's one capped reader (:func:`provider_fetcher`): no
redirects, at most DEFAULT_MAX_BYTES, one deadline for the whole answer.

https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal
from urllib.parse import quote_plus, urlsplit

from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from vcred.errors import (
    ErrorResponseError,
    ParsingError,
    UnreachableError,
    UsageError,
    VcredError,
)
from vcred.jose import loads_strict
from vcred.net import GuardedFetcher
from vcred_service.roles import ROLES, Role, parse_role

#: Asymmetric algorithms only: an HMAC id_token would be keyed with the client secret.
DEFAULT_ALGORITHMS: Final = ("RS256", "PS256", "ES256", "ES384", "EdDSA")
#: Clock skew allowed on ``exp``/``iat`` (seconds).
LEEWAY: Final = 60
#: Seconds for the whole of one exchange with the provider (connecting, sending, the answer).
_TIMEOUT: Final = 10.0
PENDING_KEY: Final = "vcred_oidc"
#: What of a token endpoint's error response (RFC 6749 §5.2) an operator is shown: the
#: characters its ``error`` and ``error_description`` may hold, at most so many of each.
_NOT_IN_AN_ERROR: Final = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
_ERROR_CAP: Final = 100
_DESCRIPTION_CAP: Final = 300

Claim = Literal["email", "sub"]


class OidcRefusedError(Exception):
    """A sign-in through the provider that is refused, with a stable code and the HTTP status
    the callback answers with."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True, slots=True, kw_only=True)
class OidcSettings:
    """One provider and this service's client there. Raises UsageError for a bad value."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    #: The id_token claim that names the officer's account: its email or the provider's sub.
    claim: Claim = "email"
    scopes: str = "openid email profile"
    #: A claim listing the officer's groups, and the role each group grants ("group=role").
    groups_claim: str | None = None
    group_roles: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS

    def __post_init__(self) -> None:
        check_provider_url(self.issuer)
        if not self.client_id or not self.client_secret:
            raise UsageError("OpenID Connect needs a client id and a client secret")
        if self.claim not in ("email", "sub"):
            raise UsageError(f"the officer claim is email or sub, not {self.claim!r}")
        if "openid" not in self.scopes.split():
            raise UsageError("the OpenID Connect scopes must include openid")
        if any(a == "none" or a.startswith("HS") for a in self.algorithms) or not self.algorithms:
            raise UsageError("id_token algorithms must be asymmetric (no none, no HS*)")
        if self.group_roles and not self.groups_claim:
            raise UsageError("group roles need the groups claim that lists them")
        self.role_of_group()  # raises for a bad mapping

    def role_of_group(self) -> dict[str, Role]:
        found: dict[str, Role] = {}
        for item in self.group_roles:
            group, sep, role = item.rpartition("=")
            if not sep or not group:
                raise UsageError(f"a group role is GROUP=ROLE, not {item!r}")
            found[group] = parse_role(role)
        return found


def _json_object(body: bytes) -> dict[str, Any]:
    """The provider's answer, a JSON object. Raises ParsingError."""
    found = loads_strict(body, what="the identity provider's answer")
    if not isinstance(found, dict):
        raise ParsingError("the identity provider's answer is not a JSON object")
    return found


def check_provider_url(url: str) -> None:
    """https, or http on a loopback address (a provider run beside the service for tests);
    raises UsageError otherwise."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if loopback:
            return
    raise UsageError(f"the OpenID Connect issuer must be an https URL, not {url!r}")


def provider_fetcher(*, deadline: float = _TIMEOUT) -> GuardedFetcher:
    """What reads the provider's answers: vcred.net's capped reader, without its public-address
    rule — the provider's URLs are configuration checked by :func:`check_provider_url`, and an
    agency's provider is often on its own network."""
    return GuardedFetcher(allow_private=True, connect_timeout=deadline, deadline=deadline)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pending:
    """What the browser carries between the redirect to the provider and its return."""

    state: str
    nonce: str
    code_verifier: str
    next: str

    def as_dict(self) -> dict[str, str]:
        return {
            "state": self.state,
            "nonce": self.nonce,
            "code_verifier": self.code_verifier,
            "next": self.next,
        }

    @classmethod
    def from_dict(cls, value: Any) -> Pending | None:
        if not isinstance(value, dict):
            return None
        fields = ("state", "nonce", "code_verifier", "next")
        if not all(isinstance(value.get(k), str) for k in fields):
            return None
        return cls(**{k: value[k] for k in fields})


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedIn:
    """Who the provider vouched for: the account's name and, from groups, a role."""

    name: str
    role_from_groups: Role | None


class OidcClient:
    """The relying party of one service: discovery, the redirect, the callback."""

    def __init__(
        self,
        settings: OidcSettings,
        *,
        redirect_uri: str,
        clock: Callable[[], datetime],
        fetcher: GuardedFetcher | None = None,
    ) -> None:
        self.settings = settings
        self.redirect_uri = redirect_uri
        self.clock = clock
        self.fetcher = fetcher or provider_fetcher()
        self._metadata: dict[str, Any] | None = None
        self._jwks: KeySet | None = None
        self._lock = threading.Lock()

    # -- the provider's documents ------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The discovery document (fetched once); its issuer must be the configured one."""
        with self._lock:
            if self._metadata is None:
                url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
                found = self._get_json(url)
                if found.get("issuer") != self.settings.issuer:
                    raise OidcRefusedError(
                        "OIDC_PROVIDER",
                        "the provider's discovery document names another issuer",
                        status=502,
                    )
                for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(found.get(name), str):
                        raise OidcRefusedError(
                            "OIDC_PROVIDER", f"the provider publishes no {name}", status=502
                        )
                    check_provider_url(found[name])
                self._metadata = found
            return self._metadata

    def jwks(self, *, refresh: bool = False) -> KeySet:
        """The provider's keys, read once (again with ``refresh``). Only keys that could be
        read are kept: an unreadable answer is fetched again at the next sign-in."""
        metadata = self.metadata()
        with self._lock:
            if self._jwks is not None and not refresh:
                return self._jwks
            found = self._get_json(metadata["jwks_uri"])
            try:
                keys = KeySet.import_key_set(found)  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError) as exc:
                raise OidcRefusedError(
                    "OIDC_PROVIDER", "the provider's JWKS cannot be read", status=502
                ) from exc
            self._jwks = keys
            return keys

    def _get_json(self, url: str) -> dict[str, Any]:
        """The provider's JSON object at ``url``; raises OidcRefusedError ``OIDC_PROVIDER``
        (502) for an answer that cannot be had or read."""
        try:
            return self._answer(url)
        except VcredError as exc:
            said = "cannot be reached" if isinstance(exc, UnreachableError) else "is refused"
            raise OidcRefusedError(
                "OIDC_PROVIDER", f"the identity provider {said}: {exc.message}", status=502
            ) from exc

    def _answer(self, url: str, form: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The JSON object the provider answers at ``url`` (``form`` POSTed with this client's
        credentials, else a GET), read by the fetcher within its size cap and deadline.
        Raises VcredError (vcred.net's, ParsingError); for a POST answered with an error
        response (RFC 6749 §5.2: 400, or 401 for the client's authentication), vcred.net's
        ErrorResponseError holding its body."""
        if form is None:
            body = self.fetcher.fetch(url, accept="application/json")
        else:
            auth = self._client_auth()
            body = self.fetcher.post_form(
                url, form, accept="application/json", headers=auth, error_statuses=(400, 401)
            )
        return _json_object(body)

    def _client_auth(self) -> dict[str, str]:
        """client_secret_basic: id and secret form-encoded, then Basic (RFC 6749 §2.3.1)."""
        pair = f"{quote_plus(self.settings.client_id)}:{quote_plus(self.settings.client_secret)}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode("ascii")).decode()}

    def _session(self) -> OAuth2Session:
        """Authlib's client, for the authorization URL only (it sends nothing itself)."""
        return OAuth2Session(
            client_id=self.settings.client_id,
            scope=self.settings.scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
        )

    # -- the flow ----------------------------------------------------------------------------

    def begin(self, next_path: str) -> tuple[str, Pending]:
        """The provider's authorization URL, and what the browser keeps until it returns."""
        pending = Pending(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(48),  # 64 characters (RFC 7636 §4.1: 43–128)
            next=next_path,
        )
        with self._session() as session:
            url, _ = session.create_authorization_url(
                self.metadata()["authorization_endpoint"],
                state=pending.state,
                code_verifier=pending.code_verifier,
                nonce=pending.nonce,
            )
        return url, pending

    def finish(self, pending: Pending | None, args: Mapping[str, str]) -> dict[str, Any]:
        """The verified claims of the officer's id_token, from the callback's query.

        Raises OidcRefusedError: ``OIDC_STATE`` (no flow started here, or another state),
        ``OIDC_DENIED`` (the provider's error), ``OIDC_TOKEN`` (the code exchange failed),
        ``OIDC_ID_TOKEN`` (a missing, forged, expired or misdirected id_token, a wrong nonce).
        """
        token = self.exchange(pending, args)
        id_token = token.get("id_token")
        if pending is None or not isinstance(id_token, str):
            raise OidcRefusedError("OIDC_ID_TOKEN", "the provider sent no id_token", status=403)
        access_token = token.get("access_token")
        return self.verify_id_token(
            id_token,
            nonce=pending.nonce,
            access_token=access_token if isinstance(access_token, str) else None,
        )

    def exchange(self, pending: Pending | None, args: Mapping[str, str]) -> dict[str, Any]:
        """The token endpoint's answer for the callback's code (state checked first, in
        constant time; the PKCE verifier sent). Raises OidcRefusedError as :meth:`finish`."""
        if pending is None or not hmac.compare_digest(
            args.get("state", "").encode(), pending.state.encode()
        ):
            raise OidcRefusedError(
                "OIDC_STATE", "this sign-in was not started here, or has expired: sign in again"
            )
        if "iss" in args and args["iss"] != self.settings.issuer:
            # RFC 9207 §2.4: an answer from another provider (a mix-up) goes no further
            raise OidcRefusedError("OIDC_STATE", "the answer comes from another provider")
        if "error" in args:
            # RFC 6749 §4.1.2.1: error and error_description, shown as the token endpoint's are
            raise OidcRefusedError(
                "OIDC_DENIED",
                "the identity provider refused: " + self._error_said(args, {}),
                status=403,
            )
        code = args.get("code")
        if not code:
            raise OidcRefusedError("OIDC_STATE", "the provider sent no authorization code")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": pending.code_verifier,
        }
        try:
            token = self._answer(self.metadata()["token_endpoint"], form)
        except VcredError as exc:
            said = exc.message
            if isinstance(exc, ErrorResponseError) and (why := self._error_said(exc.body, form)):
                said = f"{said}: {why}"
            raise OidcRefusedError(
                "OIDC_TOKEN", f"the identity provider did not exchange the code: {said}", status=403
            ) from exc
        if "error" in token:
            raise OidcRefusedError(
                "OIDC_TOKEN",
                "the identity provider did not exchange the code: " + self._error_said(token, form),
                status=403,
            )
        return token

    def _error_said(self, answer: bytes | Mapping[str, Any], sent: Mapping[str, str]) -> str:
        """``error: error_description`` of the token endpoint's error response (RFC 6749
        §5.2), for the operator: each capped, in the characters §5.2 allows them (any other
        one is a ``?``), with what this client sent (its secret, the code, the PKCE verifier)
        blanked should the provider echo it. Empty for an answer holding no ``error``."""
        if isinstance(answer, bytes):
            try:
                answer = _json_object(answer)
            except VcredError:
                return ""
        if "error" not in answer:
            return ""
        basic = self._client_auth()["Authorization"].removeprefix("Basic ")
        said = [self.settings.client_secret, sent.get("code"), sent.get("code_verifier"), basic]
        secret = {value for value in said if value} | {quote_plus(v) for v in said if v}
        parts = []
        for name, cap in (("error", _ERROR_CAP), ("error_description", _DESCRIPTION_CAP)):
            if answer.get(name) is None:
                continue
            text = str(answer[name])
            for value in sorted(secret, key=len, reverse=True):  # the longest first
                text = text.replace(value, "[redacted]")
            text = _NOT_IN_AN_ERROR.sub("?", text)
            parts.append(text if len(text) <= cap else text[:cap] + "…")
        return ": ".join(parts)

    def verify_id_token(
        self, id_token: str, *, nonce: str, access_token: str | None = None
    ) -> dict[str, Any]:
        """The claims of a verified id_token (Core §3.1.3.7); raises OidcRefusedError
        ``OIDC_ID_TOKEN`` otherwise."""
        metadata = self.metadata()
        offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        # RFC 8725 §3.1: the algorithms are this client's, never the token header's alone
        allowed = [a for a in self.settings.algorithms if a in offered]
        registry = JWSRegistry(algorithms=allowed)
        try:
            try:
                decoded = jwt.decode(id_token, self.jwks(), registry=registry)
            except InvalidKeyIdError:
                # a key the provider rotated in since the JWKS was read: read it once more
                decoded = jwt.decode(id_token, self.jwks(refresh=True), registry=registry)
            claims = CodeIDToken(
                decoded.claims,
                decoded.header,
                {
                    "iss": {"essential": True, "value": self.settings.issuer},
                    "aud": {"essential": True, "value": self.settings.client_id},
                    "exp": {"essential": True},
                    "iat": {"essential": True},
                    "nonce": {"essential": True},
                },
                {
                    "nonce": nonce,
                    "client_id": self.settings.client_id,
                    "access_token": access_token,
                },
            )
            claims.validate(now=int(self.clock().timestamp()), leeway=LEEWAY)
        except (JoseError, ValueError, TypeError) as exc:
            raise OidcRefusedError(
                "OIDC_ID_TOKEN",
                f"the id_token does not verify ({type(exc).__name__})",
                status=403,
            ) from exc
        return dict(claims)

    def officer_of(self, claims: Mapping[str, Any]) -> SignedIn:
        """The account name and group role the claims give; raises OidcRefusedError
        ``OIDC_CLAIM`` (the claim is missing, the email unverified, no mapped group)."""
        settings = self.settings
        value = claims.get(settings.claim)
        if not isinstance(value, str) or not value:
            raise OidcRefusedError(
                "OIDC_CLAIM", f"the provider sent no {settings.claim} claim", status=403
            )
        if settings.claim == "email" and claims.get("email_verified") is not True:
            raise OidcRefusedError(
                "OIDC_CLAIM", "the provider has not verified this email address", status=403
            )
        role = None
        if settings.groups_claim:
            groups = claims.get(settings.groups_claim)
            mapping = settings.role_of_group()
            granted = (
                [mapping[g] for g in groups if g in mapping] if isinstance(groups, list) else []
            )
            if not granted:
                raise OidcRefusedError(
                    "OIDC_CLAIM", "none of the officer's groups grants a role here", status=403
                )
            role = max(granted, key=ROLES.index)
        return SignedIn(name=value, role_from_groups=role)
