"""``vcred wallet …``: the trader's wallet on the command line (:class:`vcred.wallet.Wallet`).

The wallet file is ``--wallet`` (or ``VCRED_WALLET``, default ``~/.vcred/wallet.db``); its
passphrase comes from ``VCRED_WALLET_PASSPHRASE`` or is asked for (never an argument: it
would sit in the shell history). Errors are one line on stderr, exit status 2.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from vcred.errors import VcredError
from vcred.net import host_map_of
from vcred.oid4vci import ProtocolError
from vcred.wallet import Held, Wallet
from vcred.wallet.transport import HttpTransport

DEFAULT_WALLET = Path.home() / ".vcred" / "wallet.db"


def _fail(message: str) -> NoReturn:
    click.echo(f"vcred: {message}", err=True)
    sys.exit(2)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except ProtocolError as exc:
        _fail(f"the issuer refused ({exc.error}): {exc.message}")
    except VcredError as exc:
        _fail(str(exc))


def _passphrase(*, confirm: bool = False) -> str:
    given = os.environ.get("VCRED_WALLET_PASSPHRASE")
    if given:
        return given
    if not sys.stdin.isatty():
        _fail("set VCRED_WALLET_PASSPHRASE (no terminal to ask for the wallet passphrase)")
    return str(click.prompt("Wallet passphrase", hide_input=True, confirmation_prompt=confirm))


def _open(path: Path) -> Wallet:
    with _errors():
        return Wallet.open(path, _passphrase())


@click.group("wallet")
@click.option(
    "--wallet",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="VCRED_WALLET",
    default=DEFAULT_WALLET,
    show_default=True,
    help="the wallet file",
)
@click.pass_context
def wallet(ctx: click.Context, path: Path) -> None:
    """The trader's wallet: receive credentials over OpenID4VCI, keep them encrypted,
    present them."""
    ctx.obj = path


@wallet.command("init")
@click.option("--type", "kind", type=click.Choice(["p256", "ed25519"]), default="p256")
@click.pass_obj
def init_command(path: Path, kind: str) -> None:
    """Make a wallet file with a new holder key; prints the holder's DID."""
    with _errors():
        made = Wallet.create(path, _passphrase(confirm=True), kind=kind)
    click.echo(made.did)


@wallet.command("receive")
@click.argument("offer_url")
@click.option("--tx-code", help="the transaction code the issuer gave you with the offer")
@click.option("--dev", is_flag=True, help="allow http and loopback issuers (development only)")
@click.option(
    "--host-map", multiple=True, help="HOST=ORIGIN, e.g. us.example=http://127.0.0.1:8001"
)
@click.pass_obj
def receive_command(
    path: Path, offer_url: str, tx_code: str | None, dev: bool, host_map: tuple[str, ...]
) -> None:
    """Redeem a credential offer (openid-credential-offer://…) and keep the credential once
    verified (proof, issuer, validity); the issuer's DID is resolved as the offer is fetched:
    https and public addresses only, but for --dev and --host-map."""
    try:
        transport = HttpTransport(allow_private=dev, host_map=host_map_of(host_map))
    except VcredError as exc:
        _fail(f"--host-map: {exc}")
    held = _open(path)
    with _errors():
        received = held.receive(offer_url, tx_code=tx_code, transport=transport)
    for item in received:
        note = f"  ({item.pending}: kept, not valid yet)" if item.pending else ""
        click.echo(f"{item.id}  {_kind(item)}  {item.format}  from {item.credential_issuer}{note}")


@wallet.command("list")
@click.pass_obj
def list_command(path: Path) -> None:
    """The credentials in the wallet: id, type, format, issuer, when received."""
    held = _open(path)
    for item in held.credentials():
        click.echo(
            f"{item.id}  {_kind(item)}  {item.format}  {item.credential_issuer}  {item.received}"
        )


@wallet.command("show")
@click.argument("credential_id")
@click.pass_obj
def show_command(path: Path, credential_id: str) -> None:
    """A credential's claims (unverified) and, for an SD-JWT, the paths you may disclose."""
    with _errors():
        item = _open(path).get(credential_id)
    shown: dict[str, Any] = {
        "id": item.id,
        "format": item.format,
        "configuration": item.configuration_id,
        "issuer": item.credential_issuer,
        "received": item.received,
        "claims": item.claims,
    }
    if item.disclosable:
        shown["disclosable"] = item.disclosable
    click.echo(json.dumps(shown, indent=2, ensure_ascii=False))


@wallet.command("present")
@click.argument("credential_or_request")
@click.option("--audience", help="the verifier (its client id / domain); not for a request")
@click.option("--nonce", help="the verifier's nonce (challenge); not for a request")
@click.option("--disclose", multiple=True, help="SD-JWT: a claim to reveal (a JSON Pointer)")
@click.option("--dev", is_flag=True, help="allow http and loopback verifiers (development only)")
@click.pass_obj
def present_command(
    path: Path,
    credential_or_request: str,
    audience: str | None,
    nonce: str | None,
    disclose: tuple[str, ...],
    dev: bool,
) -> None:
    """Answer a verifier: an OpenID4VP request (an openid4vp:// link or its request_uri) is
    fetched, verified and answered from the wallet, disclosing only the claims it asks for;
    or one credential is presented for --audience and --nonce (SD-JWT+KB revealing only
    --disclose, or a VP), printed."""
    if credential_or_request.startswith(("openid4vp://", "haip-vp://", "https://", "http://")):
        if audience or nonce or disclose:
            _fail("an OpenID4VP request names its verifier, nonce and claims: no options")
        with _errors():
            done = _open(path).respond(
                credential_or_request, transport=HttpTransport(allow_private=dev)
            )
        click.echo(f"presented {', '.join(done.presented)} to {done.client_id}")
        return
    if audience is None or nonce is None:
        _fail("presenting one credential needs --audience and --nonce")
    with _errors():
        presented = _open(path).present(
            credential_or_request, audience=audience, nonce=nonce, disclose=disclose
        )
    click.echo(presented if isinstance(presented, str) else json.dumps(presented, indent=2))


@wallet.command("export")
@click.argument("credential_id")
@click.pass_obj
def export_command(path: Path, credential_id: str) -> None:
    """The credential as issued (a compact token, or JSON), to hand over as a file."""
    with _errors():
        click.echo(_open(path).get(credential_id).export())


def _kind(item: Held) -> str:
    specific = [t for t in item.types if t != "VerifiableCredential"]
    return specific[-1] if specific else "VerifiableCredential"
