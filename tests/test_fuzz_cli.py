"""`python -m fuzz`: an unknown target is a usage error naming the known ones (no fuzzing run)."""

from __future__ import annotations

import pytest

from fuzz.__main__ import main
from fuzz.targets import TARGETS


@pytest.mark.parametrize(
    "args",
    [["no-such-target"], ["jwt", "no-such-target"], ["--one", "no-such-target"]],
    ids=["alone", "beside-a-known-one", "one"],
)
def test_an_unknown_target_is_a_usage_error_naming_the_known_ones(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*args, "--seconds", "1"])
    assert exited.value.code == 2
    said = capsys.readouterr()
    assert "no-such-target" in said.err
    for name in TARGETS:
        assert name in said.err
    assert "== fuzzing" not in said.out  # refused before any target ran
