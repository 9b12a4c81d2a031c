"""The customs registry a service runs with: the bundled files plus an agency's own.

``VCRED_REGISTRY`` (paths separated by the OS path separator; files or folders of
``*.json``) names registry files that add countries, programmes and arrangements
(docs/trust-fabric.md). ``vcred --registry PATH serve …`` sets the same for the embedded
servers; gunicorn deployments read the variable here, once, when the app is created.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from vcred.customs.programmes import active_registry, registry_paths, use_registry

REGISTRY_ENV: Final = "VCRED_REGISTRY"


def use_registry_from_env(environ: Mapping[str, str] | None = None) -> None:
    """Extend the registry in use with the files ``VCRED_REGISTRY`` names (if any, and not
    already loaded). Raises UsageError / MalformedError for a missing or bad file."""
    env = os.environ if environ is None else environ
    paths = [p for p in env.get(REGISTRY_ENV, "").split(os.pathsep) if p]
    if not paths:
        return
    wanted = registry_paths(paths)
    if active_registry().files != wanted.files:
        use_registry(wanted)
