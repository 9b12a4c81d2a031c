"""A service's contexts folder: the JSON-LD contexts it knows beyond the bundled ones.

The folder holds the context documents and a manifest, ``contexts.json``, mapping each
context URL to its file (a plain name in the folder) and the SHA-256 of the file's bytes
(``sha256sum FILE``)::

    {"https://customs.example/ns/extra/v1": {"file": "extra-v1.jsonld", "sha256": "3f…"}}

A file that does not match its digest, a name outside the folder, or a manifest of another
shape stops the service from starting (docs/services.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from vcred._json import loads_local
from vcred.errors import ContextError, ParsingError
from vcred.jsonld import ContextLoader

MANIFEST: Final = "contexts.json"


def load_context_folder(folder: Path) -> ContextLoader:
    """The bundled contexts plus those ``folder``'s manifest pins. Raises ContextError."""
    manifest = _read_manifest(Path(folder) / MANIFEST)
    documents: dict[str, tuple[bytes, str]] = {}
    for url, entry in manifest.items():
        if not isinstance(entry, dict) or set(entry) != {"file", "sha256"}:
            raise ContextError(f"{MANIFEST}: {url} needs exactly a file and a sha256")
        name, digest = entry["file"], entry["sha256"]
        if not isinstance(name, str) or not isinstance(digest, str):
            raise ContextError(f"{MANIFEST}: the file and sha256 of {url} must be strings")
        if Path(name).name != name or name in ("", ".", ".."):
            raise ContextError(f"{MANIFEST}: {name!r} must be a file name in the folder")
        try:
            documents[url] = ((Path(folder) / name).read_bytes(), digest)
        except OSError as exc:
            raise ContextError(f"cannot read the context file {name}: {exc}") from exc
    return ContextLoader(documents)


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContextError(f"cannot read the contexts manifest {path}: {exc}") from exc
    try:
        manifest = loads_local(data, what=f"the contexts manifest {path}")
    except ParsingError as exc:  # nested past the parser's recursion too (a RecursionError)
        raise ContextError(exc.message) from exc
    if not isinstance(manifest, dict):
        raise ContextError(f"{path} must map context URLs to their file and sha256")
    return manifest
