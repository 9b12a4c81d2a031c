"""Hostile QR uploads: only PNG, JPEG and WebP are decoded, by Pillow alone (no external
decoder), after their size is checked; every other picture — another format, a bomb, a
truncated or lying file, an animation — is an INVALID_IMAGE problem (400), never a 500.
Unusual but honest pictures (CMYK, 16-bit, palette, alpha) are read.

Each variant goes through :func:`verifier_app.qr.read_qr` and through the verifier's upload
form (``POST /verify``), whose error carries the code in ``data-code``.
"""

from __future__ import annotations

import io
import struct
import subprocess
import time
import zlib
from collections.abc import Callable
from typing import Any

import pytest
import segno
from flask import Flask
from PIL import Image

from tests.verifier.conftest import Agency, MakeApp
from vcred.errors import InvalidImageError
from verifier_app.qr import MAX_SIDE, read_qr

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int, *, depth: int = 8, colour: int = 0) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` over a few bytes of pixels."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 64)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def _saved(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header was rewritten to claim ``width`` × ``height``."""
    data = bytearray(_saved(Image.new("L", (8, 8), 255), "JPEG"))
    start = data.index(b"\xff\xc0")
    data[start + 5 : start + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def png_with_compressed_profile_bomb() -> bytes:
    """A valid 8×8 PNG carrying an ICC profile that inflates to 64 MiB."""
    image = _saved(Image.new("L", (8, 8), 255), "PNG")
    profile = b"bomb\0\0" + zlib.compress(b"\0" * (64 * 1024 * 1024), 9)
    return image[:33] + _chunk(b"iCCP", profile) + image[33:]


def _animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ("white", "black")]
    return _saved(frames[0], fmt, save_all=True, append_images=frames[1:])


def _truncated(fmt: str) -> bytes:
    data = _saved(Image.effect_noise((256, 256), 64).convert("RGB"), fmt)
    return data[: len(data) // 2]


#: name → bytes of an upload that must be refused with INVALID_IMAGE
REFUSED: dict[str, Callable[[], bytes]] = {
    "empty file": lambda: b"",
    "EPS (Ghostscript)": lambda: _saved(Image.new("RGB", (8, 8)), "EPS"),
    "PostScript by its magic": lambda: b"%!PS-Adobe-3.0\n/x 1 def\nshowpage\n",
    "PDF": lambda: _saved(Image.new("RGB", (8, 8)), "PDF"),
    "GIF": lambda: _saved(Image.new("L", (8, 8)), "GIF"),
    "BMP": lambda: _saved(Image.new("RGB", (8, 8)), "BMP"),
    "TIFF": lambda: _saved(Image.new("RGB", (8, 8)), "TIFF"),
    "ICO": lambda: _saved(Image.new("RGB", (16, 16)), "ICO"),
    "SVG": lambda: (
        b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>'
    ),
    "text named .png": lambda: b"eyJhbGciOiJFZERTQSJ9.e30.sig",
    "PNG magic then JPEG data": lambda: PNG_SIGNATURE + _saved(Image.new("L", (8, 8)), "JPEG"),
    "JPEG magic then PNG data": lambda: b"\xff\xd8\xff" + _saved(Image.new("L", (8, 8)), "PNG"),
    "PNG signature only": lambda: PNG_SIGNATURE,
    "RIFF WEBP header only": lambda: b"RIFF\x04\x00\x00\x00WEBP",
    "truncated PNG": lambda: _truncated("PNG"),
    "truncated JPEG": lambda: _truncated("JPEG"),
    "truncated WebP": lambda: _truncated("WEBP"),
    "PNG with a broken CRC": lambda: (
        png_claiming(8, 8)[:29] + b"\0\0\0\0" + png_claiming(8, 8)[33:]
    ),
    "PNG zero width": lambda: png_claiming(0, 8),
    "PNG zero height": lambda: png_claiming(8, 0),
    "PNG bomb 100000 x 100000": lambda: png_claiming(100_000, 100_000),
    "PNG 6000 x 6000 (36 Mpx)": lambda: png_claiming(6000, 6000, depth=1),
    "PNG strip 20000 x 2": lambda: png_claiming(MAX_SIDE + 1, 2),
    "PNG 2^31-1 wide": lambda: png_claiming(2**31 - 1, 1),
    "JPEG bomb 60000 x 60000": lambda: jpeg_claiming(60_000, 60_000),
    "JPEG 7000 x 7000 (49 Mpx)": lambda: jpeg_claiming(7000, 7000),
    "PNG with an ICC profile bomb": png_with_compressed_profile_bomb,
    "animated PNG": lambda: _animated("PNG"),
    "animated WebP": lambda: _animated("WEBP"),
    "random bytes after the PNG signature": lambda: PNG_SIGNATURE + bytes(range(256)) * 8,
}


def _qr(mode: str, fmt: str) -> Callable[[str], bytes]:
    def make(text: str) -> bytes:
        buffer = io.BytesIO()
        segno.make(text, error="l", micro=False).save(buffer, kind="png", scale=3, border=4)
        image = Image.open(buffer)
        if mode == "I;16":
            image = image.convert("L").point(lambda v: v * 257).convert("I;16")
        else:
            image = image.convert(mode)
        return _saved(image, fmt)

    return make


#: name → a QR code of a credential in an unusual but honest picture: read, not refused
READ: dict[str, Callable[[str], bytes]] = {
    "1-bit PNG": _qr("1", "PNG"),
    "palette PNG": _qr("P", "PNG"),
    "16-bit greyscale PNG": _qr("I;16", "PNG"),
    "greyscale with alpha PNG": _qr("LA", "PNG"),
    "RGBA PNG": _qr("RGBA", "PNG"),
    "CMYK JPEG": _qr("CMYK", "JPEG"),
    "greyscale JPEG": _qr("L", "JPEG"),
    "lossless WebP": lambda text: _saved(
        Image.open(io.BytesIO(_qr("L", "PNG")(text))), "WEBP", lossless=True
    ),
}


@pytest.fixture
def no_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail at once if anything starts a program (Ghostscript for EPS, an external decoder)."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"an image upload started a program: {args!r}")

    monkeypatch.setattr(subprocess, "Popen", refuse)


def _upload(app: Flask, data: bytes, name: str = "photo.png") -> tuple[int, str]:
    response = app.test_client().post(
        "/verify",
        data={"image": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    return response.status_code, response.get_data(as_text=True)


@pytest.mark.usefixtures("no_subprocess")
@pytest.mark.parametrize("variant", sorted(REFUSED))
def test_hostile_images_are_invalid_image_errors_in_the_decoder(variant: str) -> None:
    data = REFUSED[variant]()
    started = time.perf_counter()
    with pytest.raises(InvalidImageError) as raised:
        read_qr(data)
    assert raised.value.code == "INVALID_IMAGE"
    assert raised.value.http_status == 400
    assert time.perf_counter() - started < 5, "a refusal must not decode the picture first"


@pytest.mark.usefixtures("no_subprocess")
@pytest.mark.parametrize("variant", sorted(REFUSED))
def test_hostile_images_are_a_400_form_error_at_the_verifier(
    make_app: MakeApp, variant: str
) -> None:
    status, html = _upload(make_app(), REFUSED[variant]())
    assert status == 400
    assert 'data-code="INVALID_IMAGE"' in html
    assert "Internal Server Error" not in html


def test_an_eps_upload_never_reaches_ghostscript(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PIL import EpsImagePlugin

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Ghostscript was asked to render an upload")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", refuse)
    status, html = _upload(make_app(), REFUSED["EPS (Ghostscript)"](), "code.eps")
    assert (status, 'data-code="INVALID_IMAGE"' in html) == (400, True)


@pytest.mark.parametrize("variant", sorted(READ))
def test_unusual_but_honest_pictures_are_read(
    make_app: MakeApp, agency: Agency, variant: str
) -> None:
    token = agency.issue(agency.aeo_certificate())
    data = READ[variant](token)
    assert read_qr(data) == token
    app = make_app(max_body_bytes=4096)  # the photo may exceed the API's body limit
    status, html = _upload(app, data)
    assert status == 200
    assert 'class="verdict ok"' in html, html[:1500]
