"""How the wallet talks to issuers: a :class:`Transport` (tests hand in one over a Flask test
client), and :class:`HttpTransport`, the guarded HTTP(S) client the CLI uses.
:class:`TransportFetcher` lends a transport to the library's verifier, so the DID documents a
received credential is checked against come through the same guard and host map.

The URLs come from offers, that is from strangers: the exchange is the verifier's own guarded
client's (:meth:`vcred.net.GuardedFetcher.exchange`): only https is used, non-public addresses
are refused (:func:`vcred.net.address_refusal`), the connection goes to the address that was
checked, redirects are not followed, answers are capped and a deadline ends the whole
exchange — unless ``allow_private`` (a development issuer on loopback).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

from vcred.errors import FetchRefusedError, ResolutionError, UnreachableError
from vcred.net import DEFAULT_MAX_BYTES, GuardedFetcher, budget_left
from vcred.net import Answer as Answer  # the wallet's name for it since before

MAX_ANSWER_BYTES: Final = 1024 * 1024


class Transport(Protocol):
    """One HTTP exchange; raises ResolutionError / FetchRefusedError when there is none."""

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str]
    ) -> Answer: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpTransport:
    """HTTP(S) with the SSRF guard; ``allow_private`` admits http and loopback issuers.
    ``timeout`` bounds a whole exchange (connecting, the handshake, the answer to its end),
    and inside a verification (:func:`vcred.net.time_budget`) no more than what is left of it.

    ``host_map`` sends an exact host to a local origin (``{"us.customs.example":
    "http://127.0.0.1:8001"}``): the explicit mapping of development and the demo; mapped
    origins may be http and loopback. The exchange is :meth:`vcred.net.GuardedFetcher.exchange`,
    the one guarded client: the wallet follows the rules the verifier fetches by.
    """

    allow_private: bool = False
    host_map: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0
    _client: GuardedFetcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        client = GuardedFetcher(
            host_map=self.host_map,
            allow_private=self.allow_private,
            connect_timeout=self.timeout,
            deadline=self.timeout,
        )
        object.__setattr__(self, "_client", client)

    def request(
        self, method: str, url: str, *, body: bytes | None = None, headers: Mapping[str, str]
    ) -> Answer:
        return self._client.exchange(
            method, url, headers=headers, body=body, max_bytes=MAX_ANSWER_BYTES
        )


@dataclass(frozen=True, slots=True)
class TransportFetcher:
    """A :class:`vcred.net.Fetcher` over a wallet :class:`Transport`: one network policy for
    the wallet, whether it talks OpenID4VCI or resolves an issuer's DID.

    Only a 200 answer is a document, as for :class:`vcred.net.GuardedFetcher`: a redirect is
    refused (not followed), a 5xx is the host's failure, anything else a resolution failure.
    """

    transport: Transport

    def fetch(self, url: str, *, accept: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
        """The body of a 200 answer. Raises FetchRefusedError, UnreachableError,
        ResolutionError (and TimeBudgetError once the verification's time is spent)."""
        what = f"GET {url[:200]}"
        budget_left(f"{what} was not sent")
        answer = self.transport.request("GET", url, headers={"Accept": accept})
        if 300 <= answer.status < 400:
            raise FetchRefusedError(f"redirects are not followed ({what}: {answer.status})")
        if answer.status >= 500:
            raise UnreachableError(f"{what} answered {answer.status}")
        if answer.status != 200:
            raise ResolutionError(f"{what} answered {answer.status}")
        if len(answer.body) > max_bytes:
            raise FetchRefusedError(f"{what}: answer larger than {max_bytes} bytes")
        return answer.body
