"""The SSRF-guarded fetcher: what it refuses, and that it refuses before connecting."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.httpserver import LocalServer, local_server
from vcred.errors import FetchRefusedError, ResolutionError, UnreachableError
from vcred.net import GuardedFetcher, address_is_public


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as running:
        yield running


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",  # noqa: S104
        "::1",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not address_is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888"])
def test_public_addresses(address: str) -> None:
    assert address_is_public(address)


def test_http_is_refused_in_production(server: LocalServer) -> None:
    server.serve("/x", b"{}")
    with pytest.raises(FetchRefusedError, match="https"):
        GuardedFetcher().fetch(f"{server.origin}/x", accept="application/json")
    assert server.hits == []


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/.well-known/did.json",
        "https://127.0.0.1/.well-known/did.json",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/x",
        "https://10.0.0.1/x",
    ],
)
def test_did_web_to_loopback_private_or_link_local_is_refused(url: str) -> None:
    with pytest.raises(FetchRefusedError, match="non-public"):
        GuardedFetcher().fetch(url, accept="application/json")


def test_dns_name_resolving_to_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(FetchRefusedError):
        GuardedFetcher().fetch("https://innocent.example/did.json", accept="application/json")


def test_userinfo_urls_are_refused() -> None:
    with pytest.raises(FetchRefusedError):
        GuardedFetcher().fetch("https://user:pw@example.com/x", accept="application/json")


def test_mapped_host_reaches_local_origin(server: LocalServer) -> None:
    server.serve("/.well-known/did.json", b'{"ok": true}')
    fetcher = GuardedFetcher(host_map={"customs.example": server.origin})
    body = fetcher.fetch("https://customs.example/.well-known/did.json", accept="application/json")
    assert body == b'{"ok": true}'


def test_redirects_are_not_followed(server: LocalServer) -> None:
    server.serve("/r", b"", status=302, Location="http://169.254.169.254/")
    fetcher = GuardedFetcher(host_map={"customs.example": server.origin})
    with pytest.raises(FetchRefusedError, match="redirect"):
        fetcher.fetch("https://customs.example/r", accept="application/json")


def test_oversized_answer_is_refused(server: LocalServer) -> None:
    server.serve("/big", b"x" * 5000)
    fetcher = GuardedFetcher(host_map={"customs.example": server.origin})
    with pytest.raises(FetchRefusedError, match="larger"):
        fetcher.fetch("https://customs.example/big", accept="*/*", max_bytes=1000)


def test_oversized_answer_without_length_is_refused(server: LocalServer) -> None:
    server.serve("/big", b"x" * 5000, Content_Length="")
    server.slow["/big"] = 0.0
    fetcher = GuardedFetcher(host_map={"customs.example": server.origin})
    with pytest.raises(FetchRefusedError, match="larger"):
        fetcher.fetch("https://customs.example/big", accept="*/*", max_bytes=1000)


def test_slow_answer_hits_the_deadline(server: LocalServer) -> None:
    server.serve("/slow", b"x" * 400)
    server.slow["/slow"] = 0.05
    fetcher = GuardedFetcher(host_map={"customs.example": server.origin}, deadline=0.3)
    with pytest.raises(ResolutionError, match="longer"):
        fetcher.fetch("https://customs.example/slow", accept="*/*")


def test_error_status_is_a_resolution_error(server: LocalServer) -> None:
    fetcher = GuardedFetcher(host_map={"customs.example": server.origin})
    with pytest.raises(ResolutionError, match="404"):
        fetcher.fetch("https://customs.example/missing", accept="*/*")


def test_unresolvable_host_is_a_resolution_error() -> None:
    with pytest.raises(ResolutionError):
        GuardedFetcher().fetch("https://no-such-host.invalid/x", accept="*/*")


def test_dev_mode_allows_loopback(server: LocalServer) -> None:
    server.serve("/x", b"ok")
    assert GuardedFetcher(allow_private=True).fetch(f"{server.origin}/x", accept="*/*") == b"ok"


def test_network_failures_are_unreachable_but_a_404_is_not(server: LocalServer) -> None:
    # Offline fallbacks (stale-if-error) may only hide the network, never an answer.
    fetcher = GuardedFetcher(host_map={"customs.example": server.origin})
    with pytest.raises(ResolutionError) as missing:
        fetcher.fetch("https://customs.example/missing", accept="*/*")
    assert not isinstance(missing.value, UnreachableError)
    server.serve("/broken", b"oops", status=503)
    with pytest.raises(UnreachableError, match="503"):
        fetcher.fetch("https://customs.example/broken", accept="*/*")
    closed = GuardedFetcher(host_map={"customs.example": "http://127.0.0.1:9"})
    with pytest.raises(UnreachableError, match="failed"):
        closed.fetch("https://customs.example/x", accept="*/*")


@pytest.mark.parametrize("where", ["headers", "body"])
def test_slow_loris_is_cut_at_the_deadline(server: LocalServer, where: str) -> None:
    # one byte every 20 ms never trips the per-read socket timeout: the deadline used to be
    # checked only between 64 KiB reads, so such a host held a verifier worker for hours.
    # The server stops on its own after 10 s; the fetch must have given up long before.
    released = threading.Event()
    server.trickle["/loris"] = (where, released)
    safety = threading.Timer(10.0, released.set)
    safety.start()
    fetcher = GuardedFetcher(host_map={"customs.example": server.origin}, deadline=0.3)
    try:
        with pytest.raises(UnreachableError, match=r"longer than 0\.3s"):
            fetcher.fetch("https://customs.example/loris", accept="*/*")
        assert not released.is_set()  # it gave up while the host was still trickling
    finally:
        released.set()
        safety.cancel()


def test_a_form_post_is_read_under_the_same_rules(server: LocalServer) -> None:
    # post_form (a service's token request) shares fetch's one capped reader
    fetcher = GuardedFetcher(host_map={"idp.example": server.origin}, deadline=0.3)
    server.serve("/token", b'{"ok": true}', Content_Type="application/json")
    assert fetcher.post_form("https://idp.example/token", {"a": "b"}, accept="*/*") == (
        b'{"ok": true}'
    )
    server.serve("/big", b"x" * 2048)
    with pytest.raises(FetchRefusedError, match="larger than 1024 bytes"):
        fetcher.post_form("https://idp.example/big", {}, accept="*/*", max_bytes=1024)
    server.serve("/moved", b"", status=302, Location="https://elsewhere.example/")
    with pytest.raises(FetchRefusedError, match="redirects"):
        fetcher.post_form("https://idp.example/moved", {}, accept="*/*")
    released = threading.Event()
    server.trickle["/loris"] = ("body", released)
    try:
        with pytest.raises(UnreachableError, match=r"POST 127\.0\.0\.1/loris took longer"):
            fetcher.post_form("https://idp.example/loris", {}, accept="*/*")
        assert not released.is_set()
    finally:
        released.set()
    with pytest.raises(FetchRefusedError, match="non-public"):
        GuardedFetcher().post_form("https://127.0.0.1/token", {}, accept="*/*")
