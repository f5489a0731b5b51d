"""Every script in examples/ runs to completion (they are the documentation that executes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))


def test_there_are_examples():
    assert EXAMPLES


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path):
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "an example should print what it found"


def test_examples_read_the_shipped_data_not_the_test_folder():
    # An installed user has no tests/ folder: examples load data from clientmodel.datasets.
    for script in EXAMPLES:
        assert "tests/data" not in script.read_text(), script.name


def test_churn_example_starts_from_a_raw_purchase_log():
    text = (EXAMPLES[0].parent / "churn_and_clv.py").read_text()
    assert "cdnow_transactions.csv" in text
    assert "calibration_holdout(" in text or "summarize(" in text
