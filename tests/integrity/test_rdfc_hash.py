"""RDFC-1.0 with SHA-384, as ecdsa-rdfc-2019 uses it with P-384 keys.

RDFC-1.0 §4.4.1 lets the caller choose the hash (https://www.w3.org/TR/rdf-canon/#hash-algorithm);
the blank node labels depend on it. pyld's URDNA2015 with its hash swapped is the oracle.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld
from pyld.canon import URDNA2015

from vcred import rdfc
from vcred.errors import UsageError


class _Urdna(URDNA2015):  # type: ignore[misc]
    def __init__(self, hash_name: str) -> None:
        super().__init__()
        self._hash_name = hash_name

    def create_hash(self) -> Any:
        return hashlib.new(self._hash_name)


def _dataset(seed: int) -> str:
    """N-Quads of a little graph of blank nodes that first-degree hashing partly separates."""
    chooser = random.Random(seed)
    nodes = [f"_:n{i}" for i in range(chooser.randint(3, 7))]
    lines = set()
    for _ in range(chooser.randint(4, 12)):
        # no self-loops: pyld counts those twice in first-degree hashing (rdf-canonize does not)
        subject, target = chooser.sample(nodes, 2)
        predicate = f"<https://example.org/p{chooser.randint(0, 2)}>"
        obj = target if chooser.random() < 0.6 else f'"v{chooser.randint(0, 3)}"'
        lines.add(f"{subject} {predicate} {obj} .\n")
    return "".join(sorted(lines))


@pytest.mark.parametrize("seed", range(12))
def test_sha384_labels_match_the_reference(seed: int) -> None:
    text = _dataset(seed)
    dataset = pyld_jsonld.JsonLdProcessor.parse_nquads(text)
    expected = _Urdna("sha384").main(dataset, {"format": "application/n-quads"})
    ours = rdfc.canonicalize(rdfc.parse_nquads(text), hash_algorithm="sha384")
    assert ours.nquads == expected


def test_the_hash_changes_the_labels() -> None:
    differs = [
        seed
        for seed in range(12)
        if rdfc.canonicalize_nquads(_dataset(seed)).nquads
        != rdfc.canonicalize(rdfc.parse_nquads(_dataset(seed)), hash_algorithm="sha384").nquads
    ]
    assert differs  # otherwise the test above proves nothing


def test_only_sha256_and_sha384() -> None:
    with pytest.raises(UsageError):
        rdfc.canonicalize([], hash_algorithm="md5")
