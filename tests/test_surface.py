"""The public surface (STYLE.md): a sorted __all__ whose every name exists, and the
documented lower layer importable on its own."""

from __future__ import annotations

import importlib

import pytest

import vcred


def test_all_is_sorted_and_complete() -> None:
    assert vcred.__all__ == sorted(vcred.__all__)
    assert all(hasattr(vcred, name) for name in vcred.__all__)
    assert not [name for name in vcred.__all__ if name.startswith("_")]
    for name in ("issue", "verify", "present", "verify_presentation", "Verifier", "verify_many"):
        assert name in vcred.__all__


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
