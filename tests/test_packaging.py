"""Packaging: every package is listed, and the schemas ship in the wheel as vcred.schemas."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILES = {
    "customs-v1.jsonld",
    "defs-v1.json",
    "aeo-certificate-v1.json",
    "export-billing-attestation-v1.json",
    "mra-trust-list-v1.json",
}


def _listed_packages() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(config["tool"]["setuptools"]["packages"])


def test_every_package_directory_is_listed_in_pyproject() -> None:
    # pyproject lists packages explicitly (find cannot be combined with the schemas
    # mapping): a new package directory must be added there or it is left out of the wheel.
    found = set()
    for top in ("vcred", "vcred_service", "issuer_app", "verifier_app"):
        base = ROOT / top
        if not base.is_dir():
            continue
        for directory in [base, *(p for p in base.rglob("*") if p.is_dir())]:
            if directory.name == "__pycache__":
                continue
            if any(child.is_file() for child in directory.iterdir()):
                found.add(".".join(directory.relative_to(ROOT).parts))
    missing = found - _listed_packages()
    assert missing == set(), f"add to [tool.setuptools] packages: {sorted(missing)}"


def test_schemas_are_importable_as_package_data() -> None:
    names = {entry.name for entry in files("vcred.schemas").iterdir()}
    assert names >= SCHEMA_FILES


@pytest.mark.slow
def test_built_wheel_ships_the_schemas(tmp_path: Path) -> None:
    # Builds in an isolated environment (pyproject's build requirements, from the index).
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(tmp_path),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("vcred-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"vcred/schemas/{name}" for name in SCHEMA_FILES} <= names
    assert "vcred/schemas/__init__.py" in names
    assert not any(name.startswith("schemas/") for name in names)
    # PEP 639: the licence as an SPDX expression, its text in the wheel
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
    assert "License-Expression: Apache-2.0" in zipfile.ZipFile(wheel).read(metadata).decode()


def test_the_licence_is_an_spdx_expression_with_its_full_text() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"  # PEP 639; the table form is deprecated
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert "APPENDIX: How to apply the Apache License to your work." in text


def _make_recipe(target: str) -> list[str]:
    """The command lines of a Makefile target (continuation lines joined)."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_make_test_checks_formatting_like_lint() -> None:
    assert "$(BIN)/ruff format --check ." in _make_recipe("test")
    assert "$(BIN)/ruff format --check ." in _make_recipe("lint")


def test_packages_are_installed_without_recommends() -> None:
    # Chromium's recommends pull in hundreds of MB the headless browser tests never use.
    installs = [
        part
        for target in ("$(CHROMIUM)", "$(JA_FONT)", "$(WRK)")
        for line in _make_recipe(target)
        for part in line.split("||")
        if "apt-get install" in part
    ]
    assert installs
    for command in installs:
        assert "--no-install-recommends" in command, command


def test_pyld_is_pinned_to_the_major_version_the_fast_path_was_tested_on() -> None:
    """vcred._jsonld_fast calls pyld's private functions: a new major must be tested first."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (pin,) = [d for d in config["project"]["dependencies"] if d.lower().startswith("pyld")]
    floor, ceiling = (part.strip() for part in pin[len("pyld") :].split(","))
    assert floor.startswith(">=") and ceiling.startswith("<"), pin
    installed = version("pyld")
    major = int(ceiling[1:])
    assert int(installed.split(".")[0]) == major - 1, (installed, pin)
    assert tuple(map(int, installed.split(".")[:2])) >= tuple(map(int, floor[2:].split(".")[:2]))


def test_rich_is_an_extra_only_the_demo_uses() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert not [d for d in config["project"]["dependencies"] if d.startswith("rich")]
    extras = config["project"]["optional-dependencies"]
    assert any(d.startswith("rich") for d in extras["demo"])
    assert any(d.startswith("rich") for d in extras["server"])  # make venv: '.[server,dev]'
