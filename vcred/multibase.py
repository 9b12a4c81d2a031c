"""Base64url (RFC 4648 §5, unpadded), multibase and multicodec prefixes.

Multibase: https://www.w3.org/TR/cid-1.0/#multibase-0 — ``z`` base58btc, ``u`` base64url
without padding. Multicodec headers are unsigned varints (https://github.com/multiformats/multicodec).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from functools import cache

import base58

from vcred.errors import ParsingError

_B58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")
#: the bits one base58btc character carries
_LOG2_58 = math.log2(58)
#: base58btc characters to their digit values, one byte each (``bytes.translate``)
_B58_VALUES = bytes.maketrans(base58.BITCOIN_ALPHABET, bytes(range(58)))
#: up to 2**8 digits (a signature, a key), the masks of :func:`_b58decode` are kept
_B58_KEPT_LEVELS = 8
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ALPHABET_INDEX = {char: index for index, char in enumerate(_ALPHABET)}
# the low bits of the last character that carry no data: 4 bits after 2 chars, 2 after 3
_UNUSED_BITS = {2: 0b1111, 3: 0b11}
_PADDING = {0: b"", 2: b"==", 3: b"="}
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url, as JOSE and multibase ``u`` use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, *, pointer: str | None = None) -> bytes:
    """Strict unpadded base64url: no padding, no whitespace, no stray characters.

    Raises ParsingError for anything else, including non-canonical trailing bits (another
    encoding of the same bytes, which would let two different tokens carry one signature).
    """
    if not isinstance(text, str) or len(text) % 4 == 1:
        raise ParsingError("not unpadded base64url", pointer=pointer)
    try:
        data = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise ParsingError("not unpadded base64url", pointer=pointer) from exc
    # the standard alphabet's + and / and padding are not base64url; strict decoding below
    # refuses every other stray character. Searched in the str: `bytes in bytes` first tries
    # the needle as an integer and raises and clears a TypeError each time (CPython 3.11)
    if "+" in text or "/" in text or "=" in text:
        raise ParsingError("not unpadded base64url", pointer=pointer)
    remainder = len(data) % 4
    if remainder and _ALPHABET_INDEX.get(text[-1], 0) & _UNUSED_BITS[remainder]:
        raise ParsingError("non-canonical base64url", pointer=pointer)
    try:
        return binascii.a2b_base64(
            data.translate(_TO_STANDARD) + _PADDING[remainder], strict_mode=True
        )
    except (binascii.Error, ValueError) as exc:
        raise ParsingError("not unpadded base64url", pointer=pointer) from exc


def multibase_encode(data: bytes, base: str = "z") -> str:
    """Multibase-encode ``data`` with base58btc (``z``) or base64url (``u``)."""
    if base == "z":
        return "z" + base58.b58encode(data).decode("ascii")
    if base == "u":
        return "u" + b64url_encode(data)
    raise ValueError(f"unsupported multibase prefix {base!r}")


def multibase_decode(
    text: str, *, pointer: str | None = None, max_bytes: int | None = None
) -> bytes:
    """Decode a ``z`` (base58btc) or ``u`` (base64url) multibase string.

    ``max_bytes``: the most the value may hold (a signature, a key); a longer body is refused
    by its length before any decoding — base58btc decoding grows faster than its input (a
    512 KiB ``proofValue`` took about a second). Raises ParsingError for any other prefix, an
    invalid body, or one longer than ``max_bytes`` bytes are written.
    """
    if not isinstance(text, str) or len(text) < 2:
        raise ParsingError("not a multibase string", pointer=pointer)
    prefix, body = text[0], text[1:]
    # n bytes take at most ceil(8n / b) characters of b bits (log2(58) or 6): one more is
    # (len - 1) * b >= 8n; a leading zero byte is one "1", fewer characters than its bits ask
    if (
        max_bytes is not None
        and (len(body) - 1) * (_LOG2_58 if prefix == "z" else 6) >= 8 * max_bytes
    ):
        raise ParsingError(f"longer than a value of at most {max_bytes} bytes", pointer=pointer)
    if prefix == "z":
        if not _B58.fullmatch(body):
            raise ParsingError("invalid base58btc", pointer=pointer)
        return _b58decode(body)
    if prefix == "u":
        return b64url_decode(body, pointer=pointer)
    raise ParsingError(f"unsupported multibase prefix {prefix!r}", pointer=pointer)


def _b58decode(body: str) -> bytes:
    """base58btc of a body :data:`_B58` matched: what ``base58.b58decode`` returns (a zero byte
    per leading ``1``, then the number big-endian), computed without a Python loop per digit.

    The digits' values, one byte each (one ``translate``), are read as one big number (one
    ``int.from_bytes``); each round then merges neighbouring slots, ``high * 58**k + low``,
    for all of them at once with a shift, two masks, a multiplication and an addition, so the
    slots double in width until one holds the whole number. A slot of ``2w`` bytes holds at
    most ``58**(2w) - 1 < 2**(8 * 2w)``: no slot ever overflows into its neighbour.
    """
    digits = body.lstrip("1")
    values = digits.encode("ascii").translate(_B58_VALUES)
    levels = (len(values) - 1).bit_length() if values else 0
    value = int.from_bytes(values, "big")
    shift, base = 8, 58
    masks = _b58_masks(levels) if levels <= _B58_KEPT_LEVELS else _b58_build_masks(levels)
    for mask in masks:
        value = ((value >> shift) & mask) * base + (value & mask)
        shift <<= 1
        base *= base
    zeros = len(body) - len(digits)
    return b"\0" * zeros + value.to_bytes((value.bit_length() + 7) // 8, "big")


def _b58_build_masks(levels: int) -> tuple[int, ...]:
    """For ``2**levels`` one-byte slots, each round's mask of the low half of every slot."""
    total = 1 << levels
    return tuple(
        int.from_bytes((b"\0" * (1 << k) + b"\xff" * (1 << k)) * (total >> (k + 1)), "big")
        for k in range(levels)
    )


_b58_masks = cache(_b58_build_masks)


def varint_encode(value: int) -> bytes:
    """Unsigned LEB128 varint (multicodec headers)."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def varint_decode(data: bytes, *, pointer: str | None = None) -> tuple[int, int]:
    """Decode a leading varint; returns (value, bytes consumed). At most 9 bytes (multiformats)."""
    value = 0
    for i, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if i and byte == 0:  # multiformats: minimal encoding only
                break
            return value, i + 1
    raise ParsingError("invalid multicodec varint", pointer=pointer)
