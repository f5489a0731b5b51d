"""The python examples of the B2B docs pages run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ("funnel.md", "accounts.md", "forecasting.md")


def _blocks():
    for page in PAGES:
        path = DOCS / page
        if not path.exists():
            continue
        for i, code in enumerate(re.findall(r"```python\n(.*?)```", path.read_text(), re.S)):
            yield pytest.param(code, id=f"{page}-{i}")


@pytest.mark.parametrize("code", list(_blocks()))
def test_docs_example_runs(code, capsys):
    exec(compile(code, "<docs>", "exec"), {"__name__": "__docs__"})
