"""Reading a credential out of a photo or a camera frame of its QR code (zxing-cpp).

The image is decoded server-side so the officer's browser needs no barcode library: a
camera frame (getUserMedia → canvas → JPEG) or an uploaded picture arrives as bytes. Pillow
reads the header first and refuses pictures too large to decode safely.
"""

from __future__ import annotations

import io
import warnings
from typing import Final

import zxingcpp
from PIL import Image, UnidentifiedImageError

from vcred.errors import MalformedError

MAX_PIXELS: Final = 25_000_000  # a 24-megapixel phone photo; decompression bombs are far larger


class NoCodeError(MalformedError):
    """The image holds no readable QR code."""

    code = "NO_QR_CODE"
    title = "No QR code found"
    http_status = 422


def read_qr(data: bytes, *, max_pixels: int = MAX_PIXELS) -> str:
    """The text of the (first) QR code in an image (PNG, JPEG, GIF, WebP …).

    Raises MalformedError for something that is not an image or is too large, NoCodeError
    when no QR code can be read.
    """
    if not data:
        raise MalformedError("the image is empty")
    try:
        with warnings.catch_warnings():
            # our own pixel cap applies; Pillow's bomb warning would only repeat it
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise MalformedError(
                    f"the image has {width}×{height} pixels; at most {max_pixels} are read"
                )
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MalformedError("the upload is not an image that can be read") from exc
    grey = image.convert("L")
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    codes = zxingcpp.read_barcodes(grey, formats=qr_only)
    for code in codes:
        if code.valid and code.text:
            return code.text.strip()
    raise NoCodeError("no QR code could be read in the image: hold the code flat and in focus")
