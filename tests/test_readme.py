"""The README's Python examples run as written (on a synthetic transactions.csv)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from clientmodel.datasets.transactions import make_transactions

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.+?)\n```", README, flags=re.S)


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 2


def test_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = make_transactions(500, seed=5, start="2023-07-01", frame="pandas")
    log = log[log["timestamp"] <= "2024-06-30"]
    log.to_csv(tmp_path / "transactions.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(BLOCKS[0], namespace)  # the quickstart: summary, BG/NBD, CLV
    summary = namespace["summary"]
    assert {"p_alive", "next_quarter", "clv_12m"} <= set(summary.columns)  # type: ignore[attr-defined]
    tags = np.where(summary["frequency"] >= 3, "vip", "regular")  # type: ignore[index]
    namespace["summary_with_tags"] = summary.assign(  # type: ignore[attr-defined]
        tags=[[t] for t in tags]
    )
    exec(BLOCKS[1], namespace)  # the rules example
    assert eval("rules.evaluate(rule, customer, as_of=dt.date(2024, 6, 30))", namespace) is True


def test_readme_command_line_session_runs(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (session,) = [b for b in re.findall(r"```bash\n(.+?)\n```", README, flags=re.S) if "LOG=" in b]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", session.replace("python ", f"{sys.executable} ")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "model.json").exists()
    header = done.stdout.splitlines()[0].split(",")
    assert {"customer_id", "clv", "p_alive", "churn_risk"} <= set(header)
