"""The ``clientmodel`` command: demo, summarize, one-line errors with exit code 2."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from clientmodel.cli import main

LOG = (
    "customer_id,timestamp,amount\n"
    "a,2024-01-01T10:00:00+00:00,10\n"
    "a,2024-01-15T10:00:00+00:00,20\n"
    "b,2024-01-08T09:00:00+00:00,7\n"
)


def test_demo_runs_every_section(capsys):
    assert main(["demo", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    for title in (
        "Customers",
        "Lifetime value",
        "Segments",
        "Consumer profiles",
        "Sales funnel",
        "Account graph",
    ):
        assert f"== {title}" in out


def test_summarize_writes_csv_to_stdout(tmp_path, capsys):
    src = tmp_path / "log.csv"
    src.write_text(LOG)
    code = main(["summarize", str(src), "--as-of", "2024-01-29", "--unit", "W", "--amount",
                 "amount"])  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    # a: purchases on 1 and 15 January -> 1 repeat, recency 2 weeks, T 4 weeks, value 20.
    assert rows[0]["customer_id"] == "a"
    assert (rows[0]["frequency"], rows[0]["recency"], rows[0]["T"]) == ("1", "2.0", "4.0")
    assert float(rows[0]["monetary_value"]) == 20.0
    assert rows[1]["frequency"] == "0"


def test_summarize_writes_jsonl_file(tmp_path):
    src, dst = tmp_path / "log.jsonl", tmp_path / "out.jsonl"
    lines = [
        {"customer_id": "a", "timestamp": "2024-01-01T10:00:00+00:00"},
        {"customer_id": "a", "timestamp": "2024-01-03T10:00:00+00:00"},
    ]
    src.write_text("\n".join(json.dumps(x) for x in lines))
    assert main(["summarize", str(src), "--as-of", "2024-01-10", "-o", str(dst)]) == 0
    (row,) = [json.loads(x) for x in dst.read_text().splitlines()]
    assert row["frequency"] == 1
    assert row["T"] == 9.0
    assert row["first_purchase"].startswith("2024-01-01T10:00")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--as-of", "2024-01-02"], "bad_data"),  # transactions after as_of
        (["--as-of", "not a date"], "bad_argument"),
        (["--as-of", "2024-02-01", "--customer", "client"], "bad_data"),  # missing column
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(tmp_path, capsys, args, code):
    src = tmp_path / "log.csv"
    src.write_text(LOG)
    assert main(["summarize", str(src), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error [{code}]: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_missing_file_is_a_one_line_error(tmp_path, capsys):
    assert main(["summarize", str(tmp_path / "nope.csv"), "--as-of", "2024-01-01"]) == 2
    assert capsys.readouterr().err.startswith("error [io]: ")


def test_python_dash_m_and_version():
    done = subprocess.run(
        [sys.executable, "-m", "clientmodel", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stdout.startswith("clientmodel ")
