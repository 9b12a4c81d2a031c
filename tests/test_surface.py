"""The public surface (STYLE.md, docs/api.md): a sorted __all__ whose every name exists and is
documented, nothing else public in the package, and the documented lower layer importable on
its own."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import vcred

API = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def _blocks(kind: str) -> list[str]:
    return re.findall(rf"```text {kind}\n(.*?)```", API.read_text(encoding="utf-8"), re.DOTALL)


def documented_names() -> list[str]:
    """Every name of the ```text surface blocks of docs/api.md."""
    return [n for block in _blocks("surface") for n in re.split(r"[\s,]+", block) if n]


def documented_modules() -> list[str]:
    """The first word of each line of the ```text modules block (the expert layer)."""
    return [
        line.split()[0]
        for block in _blocks("modules")
        for line in block.splitlines()
        if line and not line.startswith(" ")
    ]


def test_all_is_sorted_and_complete() -> None:
    assert vcred.__all__ == sorted(vcred.__all__)
    assert all(hasattr(vcred, name) for name in vcred.__all__)
    assert not [name for name in vcred.__all__ if name.startswith("_")]
    for name in ("issue", "verify", "present", "verify_presentation", "Verifier", "verify_many"):
        assert name in vcred.__all__


def test_all_is_what_the_api_page_documents() -> None:
    names = documented_names()
    assert len(names) == len(set(names)), "a name is documented twice"
    assert sorted(names) == vcred.__all__


def test_the_package_exposes_only_all_and_the_expert_modules() -> None:
    """The other direction: ``import vcred`` (alone, in a fresh interpreter) adds no public
    name that is not in __all__ — no typing name, no undocumented submodule."""
    listed = subprocess.run(
        [sys.executable, "-c", "import json, vcred; print(json.dumps(sorted(vars(vcred))))"],
        capture_output=True,
        text=True,
        check=True,
    )
    public = [n for n in json.loads(listed.stdout) if not n.startswith("_")]
    modules = {m.removeprefix("vcred.") for m in documented_modules()}
    stray = [n for n in public if n not in vcred.__all__ and n not in modules]
    assert stray == [], "make these private (_name), or document them in docs/api.md"


def test_every_public_submodule_is_documented_or_private() -> None:
    """With every module of vcred/ imported, each public attribute of the package is in
    __all__ or a documented module."""
    for path in sorted(Path(vcred.__file__).parent.rglob("*.py")):
        parts = path.relative_to(Path(vcred.__file__).parent.parent).with_suffix("").parts
        importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    importlib.import_module("vcred.schemas")  # package data from the top-level schemas/
    modules = {m.removeprefix("vcred.") for m in documented_modules()}
    for name, value in vars(vcred).items():
        if name.startswith("_") or name in vcred.__all__:
            continue
        assert isinstance(value, types.ModuleType), f"vcred.{name} is not in __all__"
        assert name in modules, f"document vcred.{name} or rename it _{name}"


@pytest.mark.parametrize("module", documented_modules())
def test_the_expert_layer_is_importable_and_says_what_it_is(module: str) -> None:
    imported = importlib.import_module(module)
    assert imported.__doc__, f"{module} needs a docstring saying what it is"


@pytest.mark.parametrize(
    "module",
    [
        "vcred.keys",
        "vcred.did",
        "vcred.jose",
        "vcred.sdjwt",
        "vcred.integrity",
        "vcred.status",
        "vcred.model",
        "vcred.errors",
        "vcred.net",
        "vcred.jsonld",
        "vcred.trust",
        "vcred.schema",
    ],
)
def test_the_lower_layer_is_importable(module: str) -> None:
    imported = importlib.import_module(module)
    assert imported.__doc__, f"{module} needs a docstring saying what it is"
    assert module in documented_modules()
