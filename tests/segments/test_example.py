"""The segments example runs end to end."""

from __future__ import annotations

import runpy
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rfm_segments.py"


def test_rfm_example_runs(capsys):
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert "2357 customers as of 1997-09-30" in out
    assert "Champions" in out
