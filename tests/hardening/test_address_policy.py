"""One address policy for every fetch (vcred/net.py::address_refusal): literal hosts and DNS
answers alike, every IPv6 form that embeds a private IPv4 address, every special-purpose range,
and IPv4 spellings that are not a dotted quad. Each is FETCH_REFUSED before any connection;
public addresses are still reached."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from tests.hardening.test_urls import codes, did_web_token
from tests.verifier.conftest import NOW, MakeApp
from vcred import Verifier
from vcred.errors import FetchRefusedError, UnreachableError
from vcred.net import GuardedFetcher, address_is_public, address_refusal
from vcred.wallet.transport import HttpTransport

#: address → the class of attack it stands for
REFUSED = {
    # IPv6 forms that carry an IPv4 address
    "::ffff:127.0.0.1": "IPv4-mapped loopback",
    "::ffff:10.0.0.1": "IPv4-mapped private",
    "::ffff:169.254.169.254": "IPv4-mapped cloud metadata",
    "::127.0.0.1": "IPv4-compatible loopback",
    "::8.8.8.8": "IPv4-compatible (deprecated, even of a public address)",
    "::ffff:0:127.0.0.1": "IPv4-translated loopback",
    "::ffff:0:8.8.8.8": "IPv4-translated (even of a public address)",
    "2002:7f00:1::1": "6to4 of loopback",
    "2002:a9fe:a9fe::1": "6to4 of cloud metadata",
    "2002:808:808::1": "6to4 (deprecated, even of a public address)",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2": "Teredo",
    "2001::1": "Teredo",
    "64:ff9b::7f00:1": "NAT64 of loopback",
    "64:ff9b::a9fe:a9fe": "NAT64 of cloud metadata",
    "64:ff9b::a00:1": "NAT64 of a private address",
    "64:ff9b:1::a9fe:a9fe": "local-use NAT64",
    # IPv6 special-purpose ranges
    "fec0::1": "site-local (deprecated)",
    "fc00::1": "unique local",
    "fd00:ec2::254": "unique local (AWS metadata)",
    "fe80::1": "link-local",
    "fe80::1%2": "link-local with a zone",
    "ff02::1": "multicast",
    "ff0e::1": "global-scope multicast",
    "::": "unspecified",
    "::1": "loopback",
    "2001:db8::1": "documentation",
    "3fff::1": "documentation (RFC 9637)",
    "2001:2::1": "benchmarking",
    "100::1": "discard-only",
    "5f00::1": "SRv6",
    # IPv4
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "0.0.0.0": "unspecified",  # noqa: S104
    "10.0.0.1": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "link-local, cloud metadata",
    "100.64.0.1": "carrier-grade NAT",
    "192.0.0.8": "IETF protocol assignments",
    "192.0.2.1": "documentation",
    "198.51.100.1": "documentation",
    "203.0.113.1": "documentation",
    "198.18.0.1": "benchmarking",
    "192.88.99.1": "6to4 relay (deprecated)",
    "224.0.0.1": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "broadcast",
}
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",  # IPv4-mapped: judged by the IPv4 address it reaches
    "64:ff9b::808:808",  # NAT64 (DNS64 networks): likewise
]
#: IPv4 written as browsers and libc read it, not as a dotted quad
NUMERIC_HOSTS = ["2130706433", "0x7f.1", "0x7F000001", "0177.0.0.1", "127.1", "017700000001"]


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address a fetch connects to (none answers)."""
    made: list[str] = []

    def refuse(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        made.append(str(address[0]))
        raise ConnectionRefusedError("no network in tests")

    monkeypatch.setattr(socket, "create_connection", refuse)
    return made


def answer_with(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> list[str]:
    """DNS answers every name with ``addresses``; returns the names looked up."""
    looked_up: list[str] = []

    def fake(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        looked_up.append(host)
        return [(_family(a), socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return looked_up


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_the_policy_refuses_every_special_form(address: str) -> None:
    reason = address_refusal(ipaddress.ip_address(address))
    assert reason is not None, REFUSED[address]
    assert not address_is_public(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_the_policy_allows_public_addresses(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_a_dns_answer_of_every_special_form_is_refused_before_connecting(
    monkeypatch: pytest.MonkeyPatch, attempts: list[str], address: str
) -> None:
    looked_up = answer_with(monkeypatch, address)
    with pytest.raises(FetchRefusedError, match="non-public"):
        GuardedFetcher().fetch("https://innocent.example/did.json", accept="application/json")
    assert looked_up == ["innocent.example"]
    assert attempts == []


@pytest.mark.parametrize("address", [a for a in sorted(REFUSED) if "%" not in a])
def test_a_literal_host_of_every_special_form_is_refused_without_dns(
    monkeypatch: pytest.MonkeyPatch, attempts: list[str], address: str
) -> None:
    looked_up = answer_with(monkeypatch, "8.8.8.8")
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(FetchRefusedError, match="non-public"):
        GuardedFetcher().fetch(f"https://{host}/x", accept="application/json")
    assert looked_up == [] and attempts == []


@pytest.mark.parametrize("host", NUMERIC_HOSTS)
def test_ipv4_not_written_as_a_dotted_quad_is_refused_without_dns(
    monkeypatch: pytest.MonkeyPatch, attempts: list[str], host: str
) -> None:
    looked_up = answer_with(monkeypatch, "8.8.8.8")
    with pytest.raises(FetchRefusedError, match="dotted quad"):
        GuardedFetcher().fetch(f"https://{host}/x", accept="application/json")
    assert looked_up == [] and attempts == []


def test_one_private_answer_among_public_ones_refuses_the_host(
    monkeypatch: pytest.MonkeyPatch, attempts: list[str]
) -> None:
    answer_with(monkeypatch, "8.8.8.8", "::ffff:127.0.0.1")
    with pytest.raises(FetchRefusedError, match=r"127\.0\.0\.1"):
        GuardedFetcher().fetch("https://innocent.example/x", accept="application/json")
    assert attempts == []


@pytest.mark.parametrize("address", PUBLIC)
def test_a_public_answer_is_connected_to(
    monkeypatch: pytest.MonkeyPatch, attempts: list[str], address: str
) -> None:
    answer_with(monkeypatch, address)
    with pytest.raises(UnreachableError):
        GuardedFetcher().fetch("https://innocent.example/x", accept="application/json")
    # an IPv4-mapped answer is reached as the IPv4 address it was judged as
    assert attempts == [address.removeprefix("::ffff:")]


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_did_web_resolving_to_every_special_form_is_fetch_refused_by_verify(
    monkeypatch: pytest.MonkeyPatch, attempts: list[str], address: str
) -> None:
    answer_with(monkeypatch, address)
    verifier = Verifier(fetcher=GuardedFetcher(), clock=lambda: NOW)
    result = verifier.verify(did_web_token("did:web:innocent.example"))
    assert ("FETCH_REFUSED", "/header/kid") in {(p.code, p.path) for p in result.errors}
    assert attempts == []


def test_every_special_form_through_the_verifier_service_is_a_clean_400(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, attempts: list[str]
) -> None:
    client = make_app().test_client()
    token = did_web_token("did:web:innocent.example")
    for address in [*REFUSED, *(f"numeric:{h}" for h in NUMERIC_HOSTS)]:
        if address.startswith("numeric:"):
            answer_with(monkeypatch, "8.8.8.8")
            secured = did_web_token(f"did:web:{address.removeprefix('numeric:')}")
            expected = "DID_RESOLUTION"  # the did:web names no URL: refused before DNS
        else:
            answer_with(monkeypatch, address)
            secured, expected = token, "FETCH_REFUSED"
        response = client.post("/credentials/verify", json={"verifiableCredential": secured})
        assert response.status_code == 400, (address, response.get_json())
        assert expected in codes(response), (address, codes(response))
    assert attempts == []


def test_the_wallets_transport_keeps_the_fetchers_address_rules(
    monkeypatch: pytest.MonkeyPatch, attempts: list[str]
) -> None:
    # The wallet had a guarded client of its own, which kept the policy but not every rule
    # around it: a resolver's garbage answer was a raw ValueError out of `vcred wallet
    # receive`, an IPv4-mapped answer was connected to as IPv6, and a host written as a
    # number went to DNS. It is the fetcher's exchange now.
    def get(url: str) -> None:
        HttpTransport().request("GET", url, headers={"Accept": "application/json"})

    answer_with(monkeypatch, "not-an-address")
    with pytest.raises(FetchRefusedError, match="resolved to 'not-an-address'"):
        get("https://issuer.example/offer")
    answer_with(monkeypatch, "::ffff:8.8.8.8")
    with pytest.raises(UnreachableError):
        get("https://issuer.example/offer")
    assert attempts == ["8.8.8.8"]
    looked_up = answer_with(monkeypatch, "8.8.8.8")
    with pytest.raises(FetchRefusedError, match="dotted quad"):
        get("https://2130706433/offer")
    assert looked_up == []
