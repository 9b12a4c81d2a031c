"""Where the issuer's private keys are: in its database, encrypted with the passphrase
(PKCS#8 PEM), or in a hardware security module, named by an RFC 7512 ``pkcs11:`` URI.

The ``keys`` table (and the trust-list key's meta row) hold either form in the same column;
the key's tag — its thumbprint — is checked against what the token gives back, so a row can
never make another key sign. In HSM-only mode (``IssuerConfig.hsm_only``) a key kept in the
database is refused: nothing that signs exists outside the token.
"""

from __future__ import annotations

from issuer_app.config import IssuerConfig
from issuer_app.keyring import key_tag
from vcred.errors import UsageError, VcredError
from vcred.hsm import URI_SCHEME, Pkcs11Token
from vcred.keys import KEY_KINDS, KeyPair, SigningKey


class KeyStore:
    """Makes and opens the issuer's keys, in the database or in the configured token."""

    def __init__(self, config: IssuerConfig) -> None:
        self.config = config
        self.token: Pkcs11Token | None = None
        if config.hsm_module is not None:
            # checked by IssuerConfig: a module comes with its token and PIN
            self.token = Pkcs11Token(
                config.hsm_module, token=config.hsm_token or "", pin=config.hsm_pin or ""
            )

    def close(self) -> None:
        if self.token is not None:
            self.token.close()

    def make(self, kind: str, *, hsm: bool | None = None) -> tuple[SigningKey, str]:
        """A new key of ``kind`` and what the database keeps of it (PEM or URI).

        ``hsm`` None: in the token in HSM-only mode, else in the database. Raises UsageError
        for an HSM key without a token, or a database key in HSM-only mode.
        """
        if kind not in KEY_KINDS:
            raise UsageError(f"unknown key type {kind!r}; expected one of {', '.join(KEY_KINDS)}")
        in_hsm = self.config.hsm_only if hsm is None else hsm
        if in_hsm:
            if self.token is None:
                raise UsageError("no HSM is configured (VCRED_ISSUER_HSM_MODULE)")
            key = self.token.generate(kind)
            return key, key.uri
        if self.config.hsm_only:
            raise UsageError("this issuer signs with HSM keys only: add the key with --hsm")
        pair = KeyPair.generate(kind)
        return pair, pair.to_pem(password=self._passphrase()).decode()

    def open(self, kind: str, stored: str, *, tag: str) -> SigningKey:
        """The key a database row keeps as ``stored``. Raises UsageError when it cannot be
        decrypted or found, is not the key ``tag`` names, or is kept in the database in
        HSM-only mode."""
        if stored.startswith(URI_SCHEME):
            if self.token is None:
                raise UsageError(
                    f"the key {tag} is in an HSM ({stored}): configure VCRED_ISSUER_HSM_MODULE, "
                    "_TOKEN and _PIN"
                )
            key: SigningKey = self.token.key(stored, kind)
        else:
            if self.config.hsm_only:
                raise UsageError(
                    f"the key {tag} is kept in the database, and this issuer signs with HSM "
                    "keys only"
                )
            try:
                key = KeyPair.from_pem(stored.encode(), password=self._passphrase())
            except VcredError as exc:
                raise UsageError(
                    "cannot decrypt the issuer's keys: is VCRED_ISSUER_PASSPHRASE the one they "
                    "were created with?"
                ) from exc
        if key_tag(key.public) != tag:
            raise UsageError(f"the key stored as {tag} is another key ({key_tag(key.public)})")
        return key

    def _passphrase(self) -> bytes:
        if not self.config.passphrase:  # pragma: no cover - IssuerConfig requires it
            raise UsageError("the key passphrase must not be empty")
        return self.config.passphrase.encode()
