"""Keys that never leave a hardware security module, over PKCS#11 (``python-pkcs11``).

A :class:`Pkcs11Token` is one logged-in session on one token: it makes Ed25519, P-256, P-384
and P-521 key pairs inside the token (private halves sensitive and not extractable) and finds
them again by their ``CKA_ID``. Each :class:`HsmKey` signs through the token and is a
:class:`vcred.keys.SigningKey`, so ``vcred.issuing.signer_for(key, did=…)`` makes the
:class:`vcred.keys.Signer` the issuing code takes — the same as for a key in memory.

Mechanisms (PKCS#11 v3.0, https://docs.oasis-open.org/pkcs11/pkcs11-curr/v3.0/):
``CKM_EDDSA`` for Ed25519 (pure EdDSA, RFC 8032), ``CKM_ECDSA`` over the hash the curve takes
in JWS (RFC 7518 §3.4: SHA-256, SHA-384, SHA-512), computed here — every token implements
``CKM_ECDSA``, not all the hash-and-sign variants. Both give the raw signature (r‖s for ECDSA),
the form vcred signs with. A key is named by an RFC 7512 ``pkcs11:`` URI (token and id).

The optional dependency: ``pip install 'vcred[hsm]'``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, unquote

from vcred.errors import UsageError
from vcred.keys import KEY_KINDS, KeyKind, PublicKey

#: RFC 7512 §2.3: the URI scheme naming an object in a PKCS#11 token.
URI_SCHEME: Final = "pkcs11:"
#: The named curves of the EC kinds (RFC 5480 §2.1.1.1) and Ed25519 (RFC 8410 §3).
_CURVE: Final[dict[KeyKind, str]] = {
    "ed25519": "1.3.101.112",
    "p256": "secp256r1",
    "p384": "secp384r1",
    "p521": "secp521r1",
}
_HASH: Final[dict[KeyKind, Callable[[bytes], Any]]] = {
    "p256": hashlib.sha256,
    "p384": hashlib.sha384,
    "p521": hashlib.sha512,
}
#: Bytes of an uncompressed point (0x04 ‖ x ‖ y), or of an Ed25519 key.
_POINT_BYTES: Final[dict[KeyKind, int]] = {"ed25519": 32, "p256": 65, "p384": 97, "p521": 133}
_ID_BYTES: Final = 16
_LABEL: Final = "vcred"


def _pkcs11() -> Any:
    try:
        import pkcs11
    except ImportError as exc:  # pragma: no cover - the extra is installed with the server
        raise UsageError("PKCS#11 keys need python-pkcs11: pip install 'vcred[hsm]'") from exc
    return pkcs11


@lru_cache(maxsize=4)
def _library(module: str) -> Any:
    """The PKCS#11 module, loaded once per process (C_Initialize is process-wide)."""
    pkcs11 = _pkcs11()
    if not Path(module).is_file():
        raise UsageError(f"no PKCS#11 module at {module}")
    try:
        return pkcs11.lib(module)
    except (pkcs11.PKCS11Error, RuntimeError, OSError) as exc:
        raise UsageError(f"cannot load the PKCS#11 module {module}: {exc!r}") from exc


def mechanisms_for(kind: KeyKind) -> tuple[str, str]:
    """(key generation, signing) mechanism names a token must offer for keys of ``kind``."""
    if kind == "ed25519":
        return "EC_EDWARDS_KEY_PAIR_GEN", "EDDSA"
    return "EC_KEY_PAIR_GEN", "ECDSA"


def check_mechanisms(kind: KeyKind, offered: set[str], *, token: str) -> None:
    """Refuse a key type the token cannot make or sign with. Raises UsageError."""
    missing = [name for name in mechanisms_for(kind) if name not in offered]
    if missing:
        raise UsageError(
            f"the PKCS#11 token {token!r} cannot hold {kind} keys: it lacks "
            + ", ".join(f"CKM_{name}" for name in missing)
        )


def key_uri(token: str, key_id: bytes) -> str:
    """The RFC 7512 URI of a private key: ``pkcs11:token=…;id=%..;type=private``."""
    encoded = "".join(f"%{byte:02x}" for byte in key_id)
    return f"{URI_SCHEME}token={quote(token, safe='')};id={encoded};type=private"


def parse_key_uri(uri: str) -> tuple[str, bytes]:
    """(token label, CKA_ID) of a ``pkcs11:`` URI made by :func:`key_uri`. Raises UsageError."""
    if not uri.startswith(URI_SCHEME):
        raise UsageError("not a pkcs11: URI")
    attributes: dict[str, str] = {}
    for part in uri[len(URI_SCHEME) :].split(";"):
        name, _, value = part.partition("=")
        attributes[name] = value
    if "token" not in attributes or "id" not in attributes:
        raise UsageError("a key's pkcs11: URI names its token and id")
    key_id = unquote(attributes["id"], encoding="latin-1").encode("latin-1")
    if not key_id:
        raise UsageError("a key's pkcs11: URI has an empty id")
    return unquote(attributes["token"]), key_id


@dataclass(frozen=True, slots=True, eq=False)
class HsmKey:
    """A private key inside a token: its public half, and a way to sign with it."""

    kind: KeyKind
    public: PublicKey
    uri: str
    _token: Pkcs11Token = field(repr=False)
    _private: Any = field(repr=False)

    def sign(self, data: bytes, *, deterministic: bool = False) -> bytes:
        """A raw signature made in the token: Ed25519 (64 bytes) or ECDSA r‖s.

        Raises UsageError for ``deterministic`` (RFC 6979 nonces are a local key's: a token
        picks its own) and when the token fails to sign.
        """
        if deterministic:
            raise UsageError("a key in an HSM signs ECDSA with the token's own nonces")
        return self._token.sign(self, data)


@dataclass(slots=True)
class _Login:
    """One process's logged-in session on a token. PKCS#11 logs a whole application in
    (C_Login, §5.6): a second login fails, so every :class:`Pkcs11Token` of the token shares
    this one, and the last to close ends it."""

    session: Any
    pin_digest: bytes
    offered: set[str]
    users: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


_LOGINS: dict[tuple[str, str], _Login] = {}
_LOGINS_LOCK = threading.Lock()


def _login(module: str, token: str, pin: str) -> _Login:
    """The shared login on ``token`` (made now if there is none). Raises UsageError."""
    pkcs11 = _pkcs11()
    digest = hashlib.sha256(pin.encode()).digest()
    with _LOGINS_LOCK:
        login = _LOGINS.get((module, token))
        if login is not None:
            if not hmac.compare_digest(login.pin_digest, digest):
                raise UsageError(f"the PIN of the PKCS#11 token {token!r} is wrong")
            login.users += 1
            return login
        library = _library(module)
        found = _token(library, module, token)
        try:
            session = found.open(user_pin=pin, rw=True)
        except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange) as exc:
            raise UsageError(f"the PIN of the PKCS#11 token {token!r} is wrong") from exc
        except pkcs11.PKCS11Error as exc:
            raise UsageError(f"cannot log in to the PKCS#11 token {token!r}: {exc!r}") from exc
        offered = {m.name for m in found.slot.get_mechanisms() if hasattr(m, "name")}
        login = _Login(session=session, pin_digest=digest, offered=offered, users=1)
        _LOGINS[(module, token)] = login
        return login


#: How often, and how far apart, a token not listed is looked for again (no login open).
TOKEN_LOOKS: Final = 8
TOKEN_LOOK_PAUSE_S: Final = 0.25


def _token(library: Any, module: str, token: str) -> Any:
    """The token labelled ``token``. Raises UsageError.

    A module may list its tokens once, when it is loaded, and leave out one another process
    is writing at that moment: SoftHSM2 skips a token whose object file another process is
    rewriting (seen when several workers start at once, one making the keys), or answer
    CKR_GENERAL_ERROR while reading it (seen likewise). Not listed, it is looked for again,
    the module reloaded (C_Finalize, C_Initialize) — only while this process holds no
    login, which a reload would end.
    """
    pkcs11 = _pkcs11()
    unreadable: Exception | None = None
    for look in range(1 if _LOGINS else TOKEN_LOOKS):
        if look:
            time.sleep(TOKEN_LOOK_PAUSE_S)
            try:
                library.reinitialize()
            except pkcs11.PKCS11Error as exc:
                raise UsageError(f"cannot reload the PKCS#11 module {module}: {exc!r}") from exc
        try:
            return library.get_token(token_label=token)
        except pkcs11.NoSuchToken:
            unreadable = None
        except pkcs11.GeneralError as exc:
            unreadable = exc
        except pkcs11.MultipleTokensReturned as exc:
            raise UsageError(f"several PKCS#11 tokens are labelled {token!r}") from exc
    if unreadable is not None:
        raise UsageError(
            f"cannot read the PKCS#11 tokens of {module}: {unreadable!r}"
        ) from unreadable
    raise UsageError(f"no PKCS#11 token labelled {token!r} in {module}")


class Pkcs11Token:
    """A logged-in session on a PKCS#11 token; thread-safe (one operation at a time).

    Raises UsageError for a module that cannot be loaded, an unknown token, a wrong PIN.
    """

    def __init__(self, module: str, *, token: str, pin: str) -> None:
        if not pin:
            raise UsageError("the PKCS#11 token's PIN must not be empty")
        self.label = token
        self.module = module
        self._login = _login(module, token, pin)
        self._session = self._login.session
        self._offered = self._login.offered
        self._lock = self._login.lock
        self._closed = False

    def __repr__(self) -> str:
        return f"Pkcs11Token(module={self.module!r}, token={self.label!r})"

    def close(self) -> None:
        """Leave the token; the last user of the process's login closes the session."""
        with _LOGINS_LOCK:
            if self._closed:
                return
            self._closed = True
            self._login.users -= 1
            if self._login.users == 0:
                del _LOGINS[(self.module, self.label)]
                with self._lock:
                    self._session.close()

    def generate(self, kind: str) -> HsmKey:
        """Make a key pair of ``kind`` in the token: the private half sensitive, never
        extractable, usable only to sign. Raises UsageError."""
        pkcs11 = _pkcs11()
        from pkcs11.util.ec import encode_named_curve_parameters

        if kind not in KEY_KINDS:
            raise UsageError(f"unknown key type {kind!r}; expected one of {', '.join(KEY_KINDS)}")
        check_mechanisms(kind, self._offered, token=self.label)
        key_type = pkcs11.KeyType.EC_EDWARDS if kind == "ed25519" else pkcs11.KeyType.EC
        generation = pkcs11.Mechanism[mechanisms_for(kind)[0]]
        key_id = secrets.token_bytes(_ID_BYTES)
        attribute = pkcs11.Attribute
        with self._lock:
            try:
                parameters = self._session.create_domain_parameters(
                    key_type,
                    {attribute.EC_PARAMS: encode_named_curve_parameters(_CURVE[kind])},
                    local=True,
                )
                public, private = parameters.generate_keypair(
                    id=key_id,
                    label=f"{_LABEL}-{kind}",
                    store=True,
                    mechanism=generation,
                    public_template={attribute.VERIFY: True},
                    private_template={
                        attribute.SIGN: True,
                        attribute.SENSITIVE: True,
                        attribute.EXTRACTABLE: False,
                        attribute.DERIVE: False,
                        attribute.DECRYPT: False,
                        attribute.UNWRAP: False,
                    },
                )
                point = public[attribute.EC_POINT]
            except pkcs11.PKCS11Error as exc:
                raise UsageError(f"the token {self.label!r} could not make a {kind} key") from exc
        return HsmKey(
            kind=kind,
            public=PublicKey.from_raw(kind, _unwrap_point(kind, point)),
            uri=key_uri(self.label, key_id),
            _token=self,
            _private=private,
        )

    def key(self, uri: str, kind: str) -> HsmKey:
        """The key of ``kind`` that ``uri`` names in this token. Raises UsageError when it
        is not there, is in another token, or is not of that kind."""
        pkcs11 = _pkcs11()
        label, key_id = parse_key_uri(uri)
        if label != self.label:
            raise UsageError(f"the key {uri} is in the token {label!r}, not {self.label!r}")
        if kind not in KEY_KINDS:
            raise UsageError(f"unknown key type {kind!r}")
        key_type = pkcs11.KeyType.EC_EDWARDS if kind == "ed25519" else pkcs11.KeyType.EC
        attribute = pkcs11.Attribute
        with self._lock:
            try:
                private = self._session.get_key(
                    object_class=pkcs11.ObjectClass.PRIVATE_KEY, key_type=key_type, id=key_id
                )
                public = self._session.get_key(
                    object_class=pkcs11.ObjectClass.PUBLIC_KEY, key_type=key_type, id=key_id
                )
                point = public[attribute.EC_POINT]
                curve = public[attribute.EC_PARAMS]
            except pkcs11.NoSuchKey as exc:
                raise UsageError(f"no {kind} key {uri} in the token {self.label!r}") from exc
            except pkcs11.MultipleObjectsReturned as exc:
                raise UsageError(f"several keys in {self.label!r} have the id of {uri}") from exc
        from pkcs11.util.ec import encode_named_curve_parameters

        if bytes(curve) != encode_named_curve_parameters(_CURVE[kind]):
            raise UsageError(f"the key {uri} is not a {kind} key")
        return HsmKey(
            kind=kind,
            public=PublicKey.from_raw(kind, _unwrap_point(kind, point)),
            uri=uri,
            _token=self,
            _private=private,
        )

    def sign(self, key: HsmKey, data: bytes) -> bytes:
        """Sign ``data`` with ``key`` in the token (see :meth:`HsmKey.sign`)."""
        pkcs11 = _pkcs11()
        if key.kind == "ed25519":
            message, mechanism = data, pkcs11.Mechanism.EDDSA
        else:
            message, mechanism = _HASH[key.kind](data).digest(), pkcs11.Mechanism.ECDSA
        with self._lock:
            try:
                signature = key._private.sign(message, mechanism=mechanism)
            except pkcs11.PKCS11Error as exc:
                raise UsageError(f"the token {self.label!r} could not sign: {exc!r}") from exc
        return bytes(signature)


def _unwrap_point(kind: KeyKind, point: bytes) -> bytes:
    """The raw point of a ``CKA_EC_POINT``: DER OCTET STRING-wrapped (PKCS#11 §2.3.3, as
    SoftHSM2 and most tokens give it) or bare. Raises UsageError for anything else."""
    size = _POINT_BYTES[kind]
    point = bytes(point)
    if len(point) == size:
        return point
    header = bytes([0x04, size]) if size < 0x80 else bytes([0x04, 0x81, size])
    if point.startswith(header) and len(point) == len(header) + size:
        return point[len(header) :]
    raise UsageError(f"the token gave a {kind} public key in an unknown encoding")
