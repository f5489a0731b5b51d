"""The CI script's docs step is strict and shows its warnings (a review read ``--quiet`` there)."""

from __future__ import annotations

from pathlib import Path

CI = Path(__file__).parents[1] / ".ci" / "run"


def test_the_docs_build_is_strict_and_not_quiet() -> None:
    lines = [ln for ln in CI.read_text().splitlines() if "mkdocs build" in ln]
    assert len(lines) == 1, lines
    words = lines[0].split()
    assert "--strict" in words
    assert not {"--quiet", "-q"} & set(words)  # --quiet hides the warnings --strict fails on
