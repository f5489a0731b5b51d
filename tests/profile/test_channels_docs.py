"""docs/channels.md: its examples run as written, in one session, and print what the text says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "channels.md"


def _run_page() -> str:
    blocks = re.findall(r"```python[^\n]*\n(.*?)```", PAGE.read_text(), re.S)
    assert len(blocks) == 3
    namespace: dict[str, object] = {"__name__": "__docs__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for code in blocks:
            exec(compile(code, str(PAGE), "exec"), namespace)
    return out.getvalue()


def test_the_day_of_sign_ups_matches_the_text():
    lines = _run_page().splitlines()
    day = lines[:9]
    assert [line.split()[1] for line in day] == [
        "no_one_on_duty",
        "pool",
        "pool",
        "pool",
        "pool",
        "pool",
        "pool",
        "pool",
        "no_one_on_duty",
    ]
    assert [line.split()[2] for line in day] == [
        "-",
        "ann",
        "ann",
        "ann",
        "bo",
        "ann",
        "bo",
        "bo",
        "-",
    ]
    assert "Hi guest 1, I'm Ann from Mall poster. Ask me anything!" in day[1]
    assert lines[9] == "{'ann': 4, 'bo': 3} | touch state: mall-b2-poster"
    # group chats: week one loses a of a, b, c, d (1/4); week two loses b of b, c, d, e (1/4)
    assert lines[10] == "2024-06-01 4 1 1 0.25"
    assert lines[11] == "2024-06-08 4 0 1 0.25"
    assert lines[12] == "{'c': ('skincare',), 'd': ('skincare',), 'e': ('skincare',)}"
    # content: 1 + 150/60 = 3.5 (tagged); 3 * 2**-1 = 1.5 (not tagged)
    assert lines[13] == "{'guide': 3.5, 'sale': 1.5} 5.0 ('skincare',)"
    assert lines[14] == "['skincare']"
