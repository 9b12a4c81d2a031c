"""Keys in a PKCS#11 token (SoftHSM2): made inside it, found again by their RFC 7512 URI,
signing every format the issuer uses — and what is refused, by name."""

from __future__ import annotations

from typing import Any

import pkcs11
import pytest
from pkcs11 import Attribute

from tests.conftest import NOW, credential
from tests.softhsm import PIN, SoftHsm
from vcred import Verifier, hsm
from vcred.errors import UsageError
from vcred.hsm import (
    HsmKey,
    Pkcs11Token,
    check_mechanisms,
    key_uri,
    mechanisms_for,
    parse_key_uri,
)
from vcred.integrity.ecdsa_sd import derive
from vcred.issuing import issue, signer_for
from vcred.keys import KEY_KINDS

TOKEN = "vcred-lib"
AT = Verifier(clock=lambda: NOW)


@pytest.fixture
def token(softhsm: SoftHsm) -> Any:
    opened = Pkcs11Token(softhsm.module, token=TOKEN, pin=PIN)
    yield opened
    opened.close()


@pytest.mark.parametrize("kind", KEY_KINDS)
def test_a_key_made_in_the_token_signs_and_its_public_key_verifies(
    token: Pkcs11Token, kind: str
) -> None:
    key = token.generate(kind)
    signature = key.sign(b"entry 26DE5B7C3A1F9E2D01")
    assert key.public.verify(signature, b"entry 26DE5B7C3A1F9E2D01")
    assert not key.public.verify(signature, b"entry 26DE5B7C3A1F9E2D02")
    assert key.uri.startswith(f"pkcs11:token={TOKEN};id=%")


@pytest.mark.parametrize("kind", KEY_KINDS)
def test_the_private_key_never_leaves_the_token(token: Pkcs11Token, kind: str) -> None:
    private = token.generate(kind)._private
    assert private[Attribute.SENSITIVE] is True
    assert private[Attribute.EXTRACTABLE] is False
    assert private[Attribute.NEVER_EXTRACTABLE] is True
    assert private[Attribute.TOKEN] is True  # kept, not a session object


def test_a_key_is_found_again_by_its_uri_after_the_session_ends(softhsm: SoftHsm) -> None:
    first = Pkcs11Token(softhsm.module, token=TOKEN, pin=PIN)
    made = first.generate("p384")
    first.close()
    again = Pkcs11Token(softhsm.module, token=TOKEN, pin=PIN)
    try:
        found = again.key(made.uri, "p384")
        assert found.public == made.public
        assert made.public.verify(found.sign(b"x"), b"x")
    finally:
        again.close()


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [
        ("ed25519", "vc+jwt"),
        ("p256", "vc+jwt"),
        ("p384", "vc+jwt"),
        ("p521", "vc+jwt"),
        ("ed25519", "vc+sd-jwt"),
        ("p256", "vc+sd-jwt"),
        ("ed25519", "eddsa-rdfc-2022"),
        ("ed25519", "eddsa-jcs-2022"),
        ("p256", "ecdsa-rdfc-2019"),
        ("p384", "ecdsa-jcs-2019"),
        ("p256", "ecdsa-sd-2023"),
        ("p256", "vc+cose"),
    ],
)
def test_credentials_signed_in_the_token_verify(token: Pkcs11Token, kind: str, fmt: str) -> None:
    key = token.generate(kind)
    secured: Any = issue(credential(), signer_for(key), format=fmt, now=NOW)
    if fmt == "ecdsa-sd-2023":  # a base proof is the holder's: a verifier sees a derived one
        secured = derive(secured, ["/credentialSubject/name"])
    result = AT.verify(secured)
    assert result.verified, result.errors
    assert result.method == signer_for(key).key_id


def test_hsm_key_as_a_did_web_method(token: Pkcs11Token) -> None:
    key = token.generate("ed25519")
    signer = signer_for(key, did="did:web:customs.example")
    assert signer.key_id == f"did:web:customs.example#{key.public.multikey()}"
    assert signer.algorithm == "EdDSA"
    assert signer.public_key == key.public


# -- refusals --------------------------------------------------------------------------------


def test_deterministic_ecdsa_is_refused_for_a_key_in_the_token(token: Pkcs11Token) -> None:
    key = token.generate("p256")
    with pytest.raises(UsageError, match="token's own nonces"):
        key.sign(b"x", deterministic=True)


def test_wrong_pin_is_refused(softhsm: SoftHsm) -> None:
    with pytest.raises(UsageError, match=r"PIN .* is wrong"):
        Pkcs11Token(softhsm.module, token="vcred-other", pin="000000")


def test_a_second_login_with_another_pin_is_refused(token: Pkcs11Token, softhsm: SoftHsm) -> None:
    # the process is logged in already: a config with another PIN must not ride on that
    with pytest.raises(UsageError, match=r"PIN .* is wrong"):
        Pkcs11Token(softhsm.module, token=TOKEN, pin=PIN + "0")


def test_empty_pin_is_refused(softhsm: SoftHsm) -> None:
    with pytest.raises(UsageError, match="PIN must not be empty"):
        Pkcs11Token(softhsm.module, token=TOKEN, pin="")


def test_unknown_token_is_refused(softhsm: SoftHsm) -> None:
    with pytest.raises(UsageError, match="no PKCS#11 token labelled 'absent'"):
        Pkcs11Token(softhsm.module, token="absent", pin=PIN)


class _ListsLate:
    """A module that lists the token only from its third load (another process was writing
    it), counting its reloads; until then it says ``error`` (by default: no such token)."""

    def __init__(self, token: Any, error: type[Exception] = pkcs11.NoSuchToken) -> None:
        self.token, self.reloads, self.error = token, 0, error

    def get_token(self, *, token_label: str) -> Any:
        if self.reloads < 2:
            raise self.error(token_label)
        return self.token

    def reinitialize(self) -> None:
        self.reloads += 1


def test_a_token_the_module_did_not_list_is_looked_for_again_reloaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three gunicorn workers started at once: SoftHSM2, loaded in one while another wrote
    the keys, did not list the token, and the worker failed to boot (taking the server)."""
    monkeypatch.setattr(hsm, "TOKEN_LOOK_PAUSE_S", 0)
    monkeypatch.setattr(hsm, "_LOGINS", {})
    late = _ListsLate(token="the token")
    assert hsm._token(late, "module.so", "vcred") == "the token"
    assert late.reloads == 2
    # with a login open in this process, a reload would end it: one look only
    monkeypatch.setattr(hsm, "_LOGINS", {("module.so", "other"): object()})
    with pytest.raises(UsageError, match="no PKCS#11 token labelled 'vcred'"):
        hsm._token(_ListsLate(token="the token"), "module.so", "vcred")
    # never listed: refused after its looks
    monkeypatch.setattr(hsm, "_LOGINS", {})
    never = _ListsLate(token="the token")
    never.reinitialize = lambda: None  # type: ignore[method-assign]
    with pytest.raises(UsageError, match="no PKCS#11 token labelled 'vcred'"):
        hsm._token(never, "module.so", "vcred")


def test_a_token_the_module_could_not_read_is_looked_for_again_reloaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same start, seen otherwise: SoftHSM2 answered CKR_GENERAL_ERROR reading the token
    another worker was writing (C_GetTokenInfo), and the worker failed to boot."""
    monkeypatch.setattr(hsm, "TOKEN_LOOK_PAUSE_S", 0)
    monkeypatch.setattr(hsm, "_LOGINS", {})
    late = _ListsLate(token="the token", error=pkcs11.GeneralError)
    assert hsm._token(late, "module.so", "vcred") == "the token"
    assert late.reloads == 2
    never = _ListsLate(token="the token", error=pkcs11.GeneralError)
    never.reinitialize = lambda: None  # type: ignore[method-assign]
    with pytest.raises(UsageError, match=r"cannot read the PKCS#11 tokens of module\.so"):
        hsm._token(never, "module.so", "vcred")


def test_missing_module_is_refused(softhsm: SoftHsm, tmp_path: Any) -> None:
    with pytest.raises(UsageError, match="no PKCS#11 module at"):
        Pkcs11Token(str(tmp_path / "nothing.so"), token=TOKEN, pin=PIN)


def test_a_file_that_is_no_module_is_refused(softhsm: SoftHsm, tmp_path: Any) -> None:
    fake = tmp_path / "fake.so"
    fake.write_bytes(b"not a shared object")
    with pytest.raises(UsageError, match="cannot load the PKCS#11 module"):
        Pkcs11Token(str(fake), token=TOKEN, pin=PIN)


def test_unknown_key_type_is_refused(token: Pkcs11Token) -> None:
    with pytest.raises(UsageError, match="unknown key type 'rsa'"):
        token.generate("rsa")


def test_a_key_of_another_kind_is_refused(token: Pkcs11Token) -> None:
    made = token.generate("p256")
    with pytest.raises(UsageError, match="is not a p384 key"):
        token.key(made.uri, "p384")
    with pytest.raises(UsageError, match="no ed25519 key"):
        token.key(made.uri, "ed25519")  # another key type altogether


def test_a_key_that_is_not_there_is_refused(token: Pkcs11Token) -> None:
    with pytest.raises(UsageError, match="no p256 key"):
        token.key(key_uri(TOKEN, b"\x00" * 16), "p256")


def test_a_key_of_another_token_is_refused(token: Pkcs11Token) -> None:
    with pytest.raises(UsageError, match="is in the token 'vcred-other'"):
        token.key(key_uri("vcred-other", b"\x01" * 16), "p256")


@pytest.mark.parametrize(
    "uri",
    ["https://example.com/key", "pkcs11:token=t", "pkcs11:id=%01", "pkcs11:token=t;id="],
)
def test_a_malformed_key_uri_is_refused(uri: str) -> None:
    with pytest.raises(UsageError):
        parse_key_uri(uri)


def test_key_uri_round_trips_rfc_7512_percent_encoding() -> None:
    uri = key_uri("agency token;1", bytes(range(0, 256, 17)))
    assert uri.startswith("pkcs11:token=agency%20token%3B1;id=%00%11%22")
    assert parse_key_uri(uri) == ("agency token;1", bytes(range(0, 256, 17)))


@pytest.mark.parametrize("kind", KEY_KINDS)
def test_a_token_without_the_mechanisms_is_refused(kind: str) -> None:
    generation, signing = mechanisms_for(kind)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match=f"cannot hold {kind} keys: it lacks CKM_{signing}"):
        check_mechanisms(kind, {generation}, token="t")  # type: ignore[arg-type]
    check_mechanisms(kind, {generation, signing}, token="t")  # type: ignore[arg-type]


def test_an_unknown_point_encoding_is_refused() -> None:
    from vcred.hsm import _unwrap_point

    with pytest.raises(UsageError, match="unknown encoding"):
        _unwrap_point("p256", b"\x04\x40" + b"\x00" * 64)
    assert _unwrap_point("p256", b"\x04\x41\x04" + b"\x01" * 64) == b"\x04" + b"\x01" * 64
    assert _unwrap_point("p521", b"\x04\x81\x85\x04" + b"\x02" * 132) == b"\x04" + b"\x02" * 132


def test_hsm_key_repr_shows_no_handle(token: Pkcs11Token) -> None:
    key = token.generate("ed25519")
    assert isinstance(key, HsmKey)
    assert "_private" not in repr(key) and PIN not in repr(token)
