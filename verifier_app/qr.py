"""Reading a credential out of a photo or a camera frame of its QR code (zxing-cpp).

The image is decoded server-side so the officer's browser needs no barcode library: a
camera frame (getUserMedia → canvas → JPEG) or an uploaded picture arrives as bytes.

An upload is hostile until shown otherwise. Only PNG, JPEG and WebP are read, recognised by
their magic bytes *before* Pillow sees them and then opened with Pillow restricted to that
one format — so no other decoder runs (an EPS upload would otherwise start Ghostscript).
The header's size is checked before any pixel is decoded (decompression bombs), animated
images are refused, and every failure of the decoder is an ``INVALID_IMAGE`` problem (400).
"""

from __future__ import annotations

import io
import struct
import warnings
from typing import Final

import zxingcpp
from PIL import Image, UnidentifiedImageError

from vcred.errors import InvalidImageError, MalformedError

MAX_PIXELS: Final = 25_000_000  # a 24-megapixel phone photo; decompression bombs are far larger
#: The longest side read: a 1 × 25 000 000 strip is no photo of a QR code.
MAX_SIDE: Final = 16_384
#: What a decoder may raise on a crafted file (truncated streams, bad chunk lengths, broken
#: tables, a frame count it cannot parse): each is the upload's fault, never ours.
_DECODER_FAILURES: Final = (
    UnidentifiedImageError,
    Image.DecompressionBombError,
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
)


class NoCodeError(MalformedError):
    """The image holds no readable QR code."""

    code = "NO_QR_CODE"
    title = "No QR code found"
    http_status = 422


def image_format(data: bytes) -> str | None:
    """``PNG``, ``JPEG`` or ``WEBP`` by the file's magic bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def read_qr(data: bytes, *, max_pixels: int = MAX_PIXELS) -> str:
    """The text of the (first) QR code in a PNG, JPEG or WebP image.

    Raises InvalidImageError for anything that is not such an image, or is empty, too
    large, animated or unreadable; NoCodeError when no QR code can be read.
    """
    grey = _decode(data, max_pixels=max_pixels)
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    codes = zxingcpp.read_barcodes(grey, formats=qr_only)
    for code in codes:
        if code.valid and code.text:
            return code.text.strip()
    raise NoCodeError("no QR code could be read in the image: hold the code flat and in focus")


def _decode(data: bytes, *, max_pixels: int) -> Image.Image:
    """The image's first and only frame in greyscale, after every check above."""
    if not data:
        raise InvalidImageError("the image is empty")
    kind = image_format(data)
    if kind is None:
        raise InvalidImageError("the upload is not an image that can be read: PNG, JPEG or WebP")
    try:
        with warnings.catch_warnings():
            # our own pixel cap applies; Pillow's bomb warning would only repeat it
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[kind])
            _check_size(image.size, max_pixels)
            if getattr(image, "n_frames", 1) != 1:
                raise InvalidImageError("animated images are not read: send one still picture")
            image.load()
            return image.convert("L")
    except _DECODER_FAILURES as exc:
        raise InvalidImageError(f"the upload is not a {kind} image that can be read") from exc


def _check_size(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise InvalidImageError(f"the image has {width}×{height} pixels: nothing to read")
    if width * height > max_pixels or max(width, height) > MAX_SIDE:
        raise InvalidImageError(
            f"the image has {width}×{height} pixels; at most {max_pixels} are read "
            f"(and {MAX_SIDE} on a side)"
        )
