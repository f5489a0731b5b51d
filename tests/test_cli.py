"""The ``clientmodel`` command as a person uses it: a pipeline of files, one-line errors."""

from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmodel.cli import _parser, main
from clientmodel.datasets import data_path

LOG = (
    "customer_id,timestamp,amount\n"
    "a,2024-01-01T10:00:00+00:00,10\n"
    "a,2024-01-15T10:00:00+00:00,20\n"
    "b,2024-01-08T09:00:00+00:00,7\n"
)


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err, code="bad_data"):
    assert err.startswith(f"error [{code}]: "), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


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
    code, out, _ = run(capsys, "summarize", src, "--as-of", "2024-01-29", "--unit", "W",
                       "--amount", "amount")  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(out.splitlines()))
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
    assert row["first_purchase"] == "2024-01-01T10:00:00+00:00"


# -- user mistakes: one line, exit code 2, the file line and the flag to fix ------------------


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--as-of", "2024-01-02"], "bad_data"),  # transactions after as_of
        (["--as-of", "not a date"], "bad_argument"),
        (["--as-of", "2024-02-01", "--customer", "client"], "bad_data"),  # missing column
        (["--as-of", "2024-02-01", "--tz", "Mars/Olympus"], "bad_argument"),
        (["--as-of", "2024-02-01", "--unit", "fortnight"], "bad_argument"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(tmp_path, capsys, args, code):
    src = tmp_path / "log.csv"
    src.write_text(LOG)
    assert main(["summarize", str(src), *args]) == 2
    one_line_error(capsys.readouterr().err, code)


def test_missing_file_is_a_one_line_error(tmp_path, capsys):
    code, _, err = run(capsys, "summarize", tmp_path / "nope.csv", "--as-of", "2024-01-01")
    assert code == 2
    assert one_line_error(err, "io").rstrip().endswith("nope.csv")


def test_non_utf8_file_names_the_encoding_and_line(tmp_path, capsys):
    # Once a UnicodeDecodeError traceback and exit code 1.
    src = tmp_path / "latin1.csv"
    src.write_bytes("customer_id,timestamp\nb,2024-01-02\nRen\xe9,2024-01-01\n".encode("latin-1"))
    code, _, err = run(capsys, "summarize", src, "--as-of", "2024-02-01")
    assert code == 2
    assert "not UTF-8" in one_line_error(err)
    assert "line 3" in err


def test_utf8_bom_from_excel_is_not_part_of_the_first_column(tmp_path, capsys):
    # Once: the id column was "missing" because its name started with U+FEFF.
    src = tmp_path / "excel.csv"
    src.write_bytes(b"\xef\xbb\xbf" + LOG.encode())
    code, out, err = run(capsys, "summarize", src, "--as-of", "2024-02-01")
    assert code == 0, err
    assert out.startswith("customer_id,")


def test_ragged_row_names_its_file_line(tmp_path, capsys):
    # Once: "column names must be strings, got None", no line.
    src = tmp_path / "ragged.csv"
    src.write_text(LOG + "c,2024-01-09T09:00:00+00:00,5,extra\n")
    code, _, err = run(capsys, "summarize", src, "--as-of", "2024-02-01")
    assert code == 2
    assert "line 5 has 4 field(s) but the header has 3" in one_line_error(err)


def test_line_numbers_are_file_lines_after_blank_lines(tmp_path, capsys):
    # The bad timestamp is on line 5 of the file (a blank line before it): 1-based, not row 2.
    src = tmp_path / "log.csv"
    src.write_text("customer_id,timestamp\na,2024-01-01\n\nb,2024-01-02\nc,yesterday\n")
    code, _, err = run(capsys, "summarize", src, "--as-of", "2024-02-01")
    assert code == 2
    assert "line 5: 'yesterday'" in one_line_error(err)


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_customer_id_is_refused_with_its_line(tmp_path, capsys, blank):
    # Once: exit 0 and a customer "".
    src = tmp_path / "log.csv"
    src.write_text(LOG + f"{blank},2024-01-09T09:00:00+00:00,5\n")
    code, _, err = run(capsys, "summarize", src, "--as-of", "2024-02-01")
    assert code == 2
    assert "line 5" in one_line_error(err)
    assert "blank" in err


def test_jsonl_line_that_is_not_an_object(tmp_path, capsys):
    # Once: an AttributeError traceback and exit code 1.
    src = tmp_path / "log.jsonl"
    src.write_text('{"customer_id": "a", "timestamp": "2024-01-01"}\n\n["b", "2024-01-02"]\n')
    code, _, err = run(capsys, "summarize", src, "--as-of", "2024-02-01")
    assert code == 2
    assert "line 3 is a JSON list, not an object" in one_line_error(err)


def test_hints_name_flags_not_python_arguments(tmp_path, capsys):
    src = tmp_path / "log.csv"
    src.write_text("customer_id,timestamp\na,2024-01-01T10:00:00\n")
    code, _, err = run(capsys, "summarize", src, "--as-of", "2024-02-01")
    assert code == 2
    assert "--tz" in one_line_error(err)
    assert "tz=" not in err
    src.write_text(LOG)
    code, _, err = run(capsys, "summarize", src, "--as-of", "2024-01-02")
    assert "--exclude-after-as-of" in one_line_error(err)
    assert "after_as_of" not in err
    assert "as_of" not in err.replace("--as-of", "")
    code, _, err = run(capsys, "summarize", src, "--as-of", "2024-02-01", "--customer", "client")
    assert "--customer" in one_line_error(err)


def test_a_bad_unit_names_the_flag_once(tmp_path, capsys):
    src = tmp_path / "log.csv"
    src.write_text(LOG)
    code, _, err = run(capsys, "fit", src, "--unit", "fortnight")
    assert code == 2
    assert one_line_error(err, "bad_argument").startswith("error [bad_argument]: --unit fortnight ")


def test_unknown_extension_asks_for_format(tmp_path, capsys):
    src = tmp_path / "log.xlsx"
    src.write_text(LOG)
    code, _, err = run(capsys, "summarize", src, "--as-of", "2024-02-01")
    assert code == 2
    assert "--format" in one_line_error(err, "bad_argument")


# -- stdin, stdout, parquet, offsets -------------------------------------------------------------


def test_dash_reads_stdin_and_writes_stdout():
    done = subprocess.run(
        [sys.executable, "-m", "clientmodel", "summarize", "-", "--as-of", "2024-02-01",
         "-o", "-", "--output-format", "jsonl"],
        input=LOG, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["customer_id"] for r in rows] == ["a", "b"]


def test_parquet_output_is_parquet_and_reads_back(tmp_path, capsys):
    # Once: -o x.parquet silently wrote CSV.
    pq = pytest.importorskip("pyarrow.parquet")
    src, dst = tmp_path / "log.csv", tmp_path / "summary.parquet"
    src.write_text(LOG)
    assert main(["summarize", str(src), "--as-of", "2024-02-01", "-o", str(dst)]) == 0
    assert dst.read_bytes()[:4] == b"PAR1"
    table = pq.read_table(dst)
    assert table.column("customer_id").to_pylist() == ["a", "b"]
    assert table.column("frequency").to_pylist() == [1, 0]
    # ... and parquet is read as input too.
    again = tmp_path / "again.csv"
    assert main(["rfm", str(src), "--as-of", "2024-02-01", "--amount", "amount", "-o",
                 str(again)]) == 0  # fmt: skip
    pq.write_table(pq.read_table(dst), tmp_path / "copy.parquet")
    code, out, _ = run(capsys, "segments", tmp_path / "copy.parquet", "--audience",
                       "loyal=frequency >= 1")  # fmt: skip
    assert code == 0
    assert next(iter(csv.DictReader(out.splitlines())))["loyal"] == "True"


def test_output_timestamps_carry_their_offset(tmp_path, capsys):
    # Once: Paris wall-clock and UTC printed alike, with no offset.
    src = tmp_path / "log.csv"
    src.write_text("customer_id,timestamp\na,2024-01-01T10:00:00\na,2024-01-05T10:00:00\n")
    outs = {}
    for tz in ("UTC", "Europe/Paris"):
        code, out, err = run(capsys, "summarize", src, "--as-of", "2024-02-01", "--tz", tz)
        assert code == 0, err
        outs[tz] = next(csv.DictReader(out.splitlines()))["first_purchase"]
    assert outs == {"UTC": "2024-01-01T10:00:00+00:00", "Europe/Paris": "2024-01-01T10:00:00+01:00"}


def test_help_has_no_restructuredtext_and_documents_exit_codes(capsys):
    parser = _parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    helps = [parser.format_help()]
    for sub in actions[0].choices.values():
        helps.append(sub.format_help())
    for text in helps:
        assert "``" not in text
        assert ":func:" not in text
        assert ":class:" not in text
    assert "exit codes" in helps[0]
    assert "2  a mistake" in helps[0]


# -- the pipeline: fit + score equal the Python API ---------------------------------------------


def test_fit_and_score_on_a_transaction_csv_equal_the_python_api(tmp_path, capsys):
    from clientmodel.ltv import BGNBD, GammaGamma, clv_table
    from clientmodel.transactions import summarize

    log = data_path("cdnow_transactions.csv")
    flags = ["--as-of", "1997-09-30", "--unit", "W", "--time", "date", "--amount", "amount",
             "--exclude-after-as-of"]  # fmt: skip
    model = tmp_path / "model.json"
    assert main(["fit", str(log), *flags, "-o", str(model)]) == 0
    code, out, err = run(capsys, "score", log, *flags, "--model", model, "--horizon", 52,
                         "--discount-rate", 0.1, "--margin", 0.3)  # fmt: skip
    assert code == 0, err
    scored = list(csv.DictReader(io.StringIO(out)))

    # The same by hand with the Python API.
    with log.open() as fh:
        rows = list(csv.DictReader(fh))
    table = {
        "customer_id": np.array([r["customer_id"] for r in rows]),
        "date": np.array([r["date"] for r in rows], dtype="datetime64[D]"),
        "amount": np.array([float(r["amount"]) for r in rows]),
    }
    summary = summarize(table, as_of="1997-09-30", unit="W", time="date", amount="amount",
                        after_as_of="exclude")  # fmt: skip
    bgnbd = BGNBD.fit(summary)
    repeat = summary["frequency"] > 0
    spend = GammaGamma.fit({k: v[repeat] for k, v in summary.items()})
    expected = clv_table(bgnbd, spend, summary, horizon=52, discount_rate=0.1, margin=0.3,
                         unit="W", customer="customer_id")  # fmt: skip

    fitted = json.loads(model.read_text())
    assert fitted["purchases"]["params"] == pytest.approx(bgnbd.params, rel=1e-9)
    assert fitted["spend"]["params"] == pytest.approx(spend.params, rel=1e-9)
    assert [r["customer_id"] for r in scored] == expected["customer_id"].tolist()
    for column in ("clv", "expected_purchases", "expected_spend", "p_alive"):
        got = np.array([float(r[column]) for r in scored])
        np.testing.assert_allclose(got, expected[column], rtol=1e-9, err_msg=column)
    np.testing.assert_allclose(
        [float(r["churn_risk"]) for r in scored], 1 - expected["p_alive"], rtol=1e-9
    )


def test_fit_reads_a_customer_summary_too(tmp_path, capsys):
    summary = tmp_path / "summary.csv"
    summary.write_text("customer_id,frequency,recency,T\n" + "".join(
        f"c{i},{i % 4},{(i % 4) * 3.0},{20.0}\n" for i in range(60)))  # fmt: skip
    code, out, err = run(capsys, "fit", summary, "--unit", "W")
    assert code == 0, err
    fitted = json.loads(out)
    assert fitted["spend"] is None
    assert fitted["purchases"]["model"] == "BGNBD"


def test_score_refuses_a_file_that_is_not_a_fitted_model(tmp_path, capsys):
    src, model = tmp_path / "log.csv", tmp_path / "model.json"
    src.write_text(LOG)
    model.write_text('{"r": 1}')
    code, _, err = run(capsys, "score", src, "--as-of", "2024-02-01", "--model", model,
                       "--horizon", 4)  # fmt: skip
    assert code == 2
    assert "--model" in one_line_error(err, "bad_argument")


# -- the other subcommands -----------------------------------------------------------------


def test_rfm_lifecycle_and_cohorts_on_the_cdnow_log(capsys):
    log = data_path("cdnow_transactions.csv")
    base = ["--as-of", "1998-06-30", "--time", "date"]
    code, out, err = run(capsys, "rfm", log, *base, "--amount", "amount")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 2357
    assert {"days_since_last", "orders", "monetary", "segment"} <= set(rows[0])
    code, out, err = run(capsys, "lifecycle", log, *base)
    assert code == 0, err
    assert len(list(csv.DictReader(io.StringIO(out)))) == 2357
    code, out, err = run(capsys, "cohorts", log, *base, "--unit", "M")
    assert code == 0, err
    cells = list(csv.DictReader(io.StringIO(out)))
    # Every customer's first purchase falls in Q1 1997: three monthly cohorts.
    assert len({c["cohort"] for c in cells}) == 3


def test_segments_refuses_a_malformed_audience(tmp_path, capsys):
    src = tmp_path / "customers.csv"
    src.write_text("customer_id,frequency\na,3\nb,1\n")
    code, out, err = run(capsys, "segments", src, "--audience", "vip=frequency >= 2")
    assert code == 0, err
    assert [r["vip"] for r in csv.DictReader(io.StringIO(out))] == ["True", "False"]
    code, _, err = run(capsys, "segments", src, "--audience", "frequency >= 2")
    assert code == 2
    assert "NAME=RULE" in one_line_error(err, "bad_argument")


def test_rules_check(tmp_path, capsys):
    code, out, _ = run(capsys, "rules", "check", "frequency>=3 and segment == 'x'")
    assert code == 0
    assert out.strip() == 'frequency >= 3 and segment = "x"'  # the normal form
    code, _, err = run(capsys, "rules", "check", "frequency >= ")
    assert code == 2
    one_line_error(err, "rule_error")
    src = tmp_path / "customers.csv"
    src.write_text("customer_id,frequency\na,3\n")
    code, _, err = run(capsys, "rules", "check", "frequncy >= 3", "--against", src)
    assert code == 2
    assert "frequncy" in one_line_error(err, "rule_error")


def test_schema_lists_and_prints_record_schemas(capsys):
    code, out, _ = run(capsys, "schema")
    assert code == 0
    assert "funnel.Deal" in out.split()
    code, out, _ = run(capsys, "schema", "Deal")
    assert code == 0
    assert json.loads(out)["title"] == "Deal"
    code, _, err = run(capsys, "schema", "Deel")
    assert code == 2
    assert "Deal" in one_line_error(err, "bad_argument")


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: clientmodel" in capsys.readouterr().err


def test_python_dash_m_and_version():
    done = subprocess.run(
        [sys.executable, "-m", "clientmodel", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stdout.startswith("clientmodel ")


def test_z_suffixed_timestamps_are_read(tmp_path, capsys):
    # Python 3.10's datetime.fromisoformat refuses "Z": the CLI reads through periods' parser.
    src = tmp_path / "log.csv"
    src.write_text("customer_id,timestamp\na,2024-01-01T10:00:00Z\na,2024-01-03T10:00:00Z\n")
    code, out, err = run(capsys, "summarize", src, "--as-of", "2024-01-10T00:00:00Z")
    assert code == 0, err
    row = next(csv.DictReader(out.splitlines()))
    assert (row["frequency"], row["first_purchase"]) == ("1", "2024-01-01T10:00:00+00:00")


@pytest.mark.parametrize(
    "content",
    ["not json", "[1, 2]", '{"format": "clientmodel.fitted_models", "purchases": [1]}',
     '{"format": "clientmodel.fitted_models", "purchases": {"model": "BGNBD", "params": "x"}}'],
)  # fmt: skip
def test_score_refuses_broken_model_files(tmp_path, capsys, content):
    src, model = tmp_path / "log.csv", tmp_path / "model.json"
    src.write_text(LOG)
    model.write_text(content)
    code, _, err = run(capsys, "score", src, "--as-of", "2024-02-01", "--model", model,
                       "--horizon", 4)  # fmt: skip
    assert code == 2
    assert "Traceback" not in err
    assert err.count("\n") == 1


def test_errors_about_the_summary_name_customers_not_file_lines(tmp_path, capsys):
    # fit on a log summarises it first: a summary row is a customer, not a line of the file.
    src = tmp_path / "log.csv"
    src.write_text("customer_id,timestamp\nzed,2024-01-01\nann,2024-01-02\n")
    code, _, err = run(capsys, "fit", src, "--as-of", "2024-02-01")
    assert code == 2
    assert "customer ann" in one_line_error(err)
    assert "line" not in err


@pytest.mark.parametrize(
    ("flag", "value"), [("--horizon", "nan"), ("--horizon", "-5"), ("--margin", "30"),
                        ("--discount-rate", "-0.1")]
)  # fmt: skip
def test_score_flags_are_checked_by_their_flag_name(tmp_path, capsys, flag, value):
    src, model = tmp_path / "log.csv", tmp_path / "model.json"
    src.write_text(LOG)
    model.write_text("{}")
    args = ["score", src, "--as-of", "2024-02-01", "--model", model, "--horizon", "4"]
    code, _, err = run(capsys, *args, flag, value)
    assert code == 2
    assert one_line_error(err, "bad_argument").startswith(f"error [bad_argument]: {flag} ")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", "is empty"),
        ("customer_id,timestamp\n", "holds no rows"),
        ("customer_id,customer_id\na,b\n", "appears twice"),
        ("customer_id,timestamp,amount\na,2024-01-01,abc\n", "line 2: 'abc'"),
        ("customer_id,timestamp,amount\na,2024-01-01,1\nb,2024-01-02,\n", "line 3"),
    ],
)
def test_more_file_mistakes(tmp_path, capsys, content, words):
    src = tmp_path / "log.csv"
    src.write_text(content)
    code, _, err = run(capsys, "summarize", src, "--as-of", "2024-02-01", "--amount", "amount")
    assert code == 2
    assert words in one_line_error(err)


def test_score_refuses_a_unit_other_than_the_models(tmp_path, capsys):
    src, model = tmp_path / "log.csv", tmp_path / "model.json"
    log = data_path("cdnow_transactions.csv")
    flags = ["--as-of", "1997-09-30", "--time", "date", "--exclude-after-as-of"]
    assert main(["fit", str(log), *flags, "--unit", "W", "-o", str(model)]) == 0
    capsys.readouterr()  # the fit's note on rows left out after --as-of
    code, _, err = run(capsys, "score", log, *flags, "--model", model, "--horizon", 4,
                       "--unit", "D")  # fmt: skip
    assert code == 2
    assert "--unit D differs" in one_line_error(err, "bad_argument")
    src.write_text(LOG)


# -- the file face equals the Python face, whatever the file format ------------------------------


_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "0042"]),
        st.integers(min_value=0, max_value=60 * 24 * 40),  # minutes into January 2024
        st.integers(min_value=1, max_value=10_000),  # cents
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=_ROWS, offset=st.sampled_from(["+00:00", "+08:00", "-05:00", "Z"]))
def test_summarize_via_csv_and_jsonl_equals_the_python_api(tmp_path_factory, rows, offset):
    import datetime as dt

    from clientmodel.transactions import summarize

    base = dt.datetime(2024, 1, 1)
    stamps = [(base + dt.timedelta(minutes=m)).isoformat() + offset for _, m, _ in rows]
    table = {
        "customer_id": [c for c, _, _ in rows],
        "timestamp": stamps,
        "amount": [c / 100 for _, _, c in rows],
    }
    folder = tmp_path_factory.mktemp("log")
    csv_file, jsonl_file = folder / "log.csv", folder / "log.jsonl"
    with csv_file.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(table)
        writer.writerows(zip(*table.values(), strict=True))
    jsonl_file.write_text(
        "".join(json.dumps(dict(zip(table, r, strict=True))) + "\n"
                for r in zip(*table.values(), strict=True))
    )  # fmt: skip
    as_of = "2024-02-15T00:00:00+00:00"
    outputs = []
    for src in (csv_file, jsonl_file):
        out = folder / f"{src.stem}-{src.suffix[1:]}.jsonl"
        assert main(["summarize", str(src), "--as-of", as_of, "--amount", "amount",
                     "--unit", "W", "-o", str(out)]) == 0  # fmt: skip
        outputs.append([json.loads(line) for line in out.read_text().splitlines()])
    assert outputs[0] == outputs[1]
    expected = summarize(
        {**table, "customer_id": np.array(table["customer_id"], dtype=object)},
        as_of=as_of, unit="W", amount="amount",
    )  # fmt: skip
    got = outputs[0]
    assert [r["customer_id"] for r in got] == [str(c) for c in expected["customer_id"]]
    for name in ("frequency", "recency", "T", "monetary_value", "revenue"):
        np.testing.assert_allclose([r[name] for r in got], expected[name], rtol=1e-12)


def test_parquet_without_pyarrow_is_refused_not_faked(tmp_path, capsys, monkeypatch):
    # Once: -o x.parquet silently wrote CSV. Without pyarrow it must say so and write nothing.
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    src, dst = tmp_path / "log.csv", tmp_path / "out.parquet"
    src.write_text(LOG)
    code, _, err = run(capsys, "summarize", src, "--as-of", "2024-02-01", "-o", dst)
    assert code == 2
    assert "pip install pyarrow" in one_line_error(err, "bad_argument")
    assert not dst.exists()


def test_jsonl_strings_may_hold_unicode_line_separators(tmp_path, capsys):
    src = tmp_path / "log.jsonl"
    src.write_text(
        '{"customer_id": "a\\u2028b", "timestamp": "2024-01-01"}\n'.replace("\\u2028", "\u2028")
    )
    code, out, err = run(capsys, "summarize", src, "--as-of", "2024-02-01")
    assert code == 0, err
    assert "a\u2028b" in out


@pytest.mark.parametrize("figure", ["cohorts", "rfm", "segments", "distributions"])
def test_plot_writes_an_image(tmp_path, capsys, figure):
    mpimg = pytest.importorskip("matplotlib.image")
    out = tmp_path / f"{figure}.png"
    code, _, err = run(capsys, "plot", figure, data_path("cdnow_transactions.csv"), "--as-of",
                       "1998-06-30", "--time", "date", "--amount", "amount", "-o", out)  # fmt: skip
    assert code == 0, err
    pixels = mpimg.imread(out)
    assert pixels.shape[0] > 200
    assert pixels[..., :3].std() > 0.1


def test_plot_mistakes_are_one_line_errors(tmp_path, capsys):
    src = tmp_path / "log.csv"
    src.write_text(LOG)
    base = ["plot", "rfm", src, "--as-of", "2024-02-01", "-o"]
    code, _, err = run(capsys, *base, tmp_path / "x.jpg")
    assert code == 2
    assert ".png" in one_line_error(err, "bad_argument")
    code, _, err = run(capsys, *base, tmp_path / "x.png")
    assert code == 2
    assert "--amount" in one_line_error(err, "bad_argument")


def test_rows_left_out_after_as_of_are_counted_on_stderr(tmp_path, capsys):
    # By hand: of LOG's three rows only a's purchase on the 15th falls after 2024-01-10.
    src = tmp_path / "log.csv"
    src.write_text(LOG)
    code, out, err = run(capsys, "summarize", src, "--as-of", "2024-01-10", "--exclude-after-as-of")
    assert code == 0, err
    assert err == (
        "note: --exclude-after-as-of left out 1 transaction(s) after --as-of 2024-01-10 "
        "(1 customer(s); see the excluded_after_as_of column)\n"
    )
    assert "excluded_after_as_of" in out.splitlines()[0]
    # nothing left out: nothing said
    code, _, err = run(capsys, "summarize", src, "--as-of", "2024-06-30", "--exclude-after-as-of")
    assert (code, err) == (0, "")
