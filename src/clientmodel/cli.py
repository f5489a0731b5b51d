"""The ``clientmodel`` command: a pipeline over CSV, JSON lines and parquet files, and a demo.

Each subcommand reads a table (a file, or ``-`` for stdin), calls the library and writes a table
(``-o FILE``, or stdout). ``clientmodel --help`` lists them; the help text is in
:func:`_parser`. Exit codes: 0 success, 2 a user mistake (bad flag, bad file, bad data: one line
``error [code]: message`` on stderr, naming the file line and the flag to fix), 1 a bug in
clientmodel (a traceback: please report it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import numpy as np

from clientmodel import __version__
from clientmodel._cli_io import FORMATS, Input, read_input, require_ids, write_output, write_text
from clientmodel._validation import check_number, did_you_mean
from clientmodel.errors import ArgumentError, ClientModelError, DataError
from clientmodel.periods import parse_timestamp, parse_unit

__all__ = ["main"]

_DEMO_AS_OF = dt.date(2025, 6, 29)

_DESCRIPTION = """\
Customer models from the command line: read a table of transactions (or of
customers), write a table of results. FILE is .csv, .jsonl or .parquet (or pass
--format); "-" reads stdin. -o FILE writes .csv, .jsonl or .parquet; without -o
the result goes to stdout as CSV.

  clientmodel summarize log.csv --as-of 2024-06-30 --unit W --amount amount
  clientmodel fit log.csv --as-of 2024-06-30 --unit W --amount amount -o model.json
  clientmodel score log.csv --as-of 2024-06-30 --model model.json --horizon 52
"""

_EPILOG = """\
exit codes:
  0  success
  2  a mistake in the input or the flags (one line on stderr says what and where)
  1  a bug in clientmodel (a traceback; please report it)
"""

# Python argument names in library messages, and the flags that set them here.
_FLAGS = {
    "customer": "--customer",
    "time": "--time",
    "amount": "--amount",
    "tz": "--tz",
    "unit": "--unit",
    "as_of": "--as-of",
    "horizon": "--horizon",
    "discount_rate": "--discount-rate",
    "margin": "--margin",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 a user mistake).

    Examples
    --------
    >>> main(["--version"])  # doctest: +ELLIPSIS
    clientmodel ...
    0
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"clientmodel {__version__}")
        return 0
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return 2
    # Notes (such as rows left out) go to stderr once the command has succeeded, so that an
    # error stays the one line on stderr.
    notes: list[str] = []
    args.notes = notes
    try:
        handler: Callable[[argparse.Namespace], None] = args.handler
        handler(args)
    except ClientModelError as exc:
        print(f"error [{exc.code}]: {_in_flags(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error of ours, nothing more to say.
        sys.stderr.close()
        return 0
    except OSError as exc:
        print(
            f"error [io]: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr
        )
        return 2
    for note in notes:
        print(note, file=sys.stderr)
    return 0


def _in_flags(message: str) -> str:
    """Say ``--tz UTC`` where the library says ``tz='UTC'``: the reader is at a shell."""

    def flag(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2).strip("'\"")
        return f"{_FLAGS[name]} {value}"

    message = re.sub(r"after_as_of=['\"]exclude['\"]", "--exclude-after-as-of", message)
    message = re.sub(r"\bas_of\b(?!=)", "--as-of", message)
    names = "|".join(_FLAGS)
    message = re.sub(rf"(?<![-\w])({names})=('[^']*'|\"[^\"]*\"|[^\s,;)]+)", flag, message)
    return " ".join(message.split())


# ---------------------------------------------------------------------------- parser
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clientmodel",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="a tour of the library on a small synthetic company")
    demo.add_argument("--seed", type=int, default=7, help="seed of the synthetic data")
    demo.set_defaults(handler=_demo)

    def command(name: str, help: str, handler: Callable[[argparse.Namespace], None]) -> Any:
        p = sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.set_defaults(handler=handler)
        return p

    summ = command(
        "summarize",
        "one row per customer from a transaction log (frequency, recency, T, monetary value)",
        _summarize,
    )
    _log_flags(summ, as_of=True)
    _exclude_flag(summ)
    _output_flags(summ)

    fit = command(
        "fit",
        "fit BG/NBD (or --model) and, with amounts, gamma-gamma; writes the fitted models as JSON",
        _fit,
    )
    _log_flags(fit, as_of=False)
    _exclude_flag(fit)
    fit.add_argument(
        "--model",
        choices=sorted(_PURCHASE_MODELS),
        default="bgnbd",
        help="the purchase model (default bgnbd)",
    )
    fit.add_argument("-o", "--output", default=None, help="write the JSON here, not to stdout")

    score = command(
        "score",
        "churn risk, expected purchases and CLV per customer from a fitted model (see fit)",
        _score,
    )
    _log_flags(score, as_of=False, unit=None)
    _exclude_flag(score)
    score.add_argument("--model", required=True, help="the JSON written by clientmodel fit")
    score.add_argument(
        "--horizon",
        type=float,
        required=True,
        help="how far ahead, in the unit of the fit (e.g. 52 for a year in weeks)",
    )
    score.add_argument(
        "--discount-rate",
        type=float,
        default=0.10,
        help="annual discount rate of the CLV (default 0.10)",
    )
    score.add_argument(
        "--margin",
        type=float,
        default=1.0,
        help="share of the spend that is margin (default 1: revenue)",
    )
    _output_flags(score)

    rfm = command(
        "rfm", "recency, frequency and monetary scores (1..k) and named segments per customer", _rfm
    )
    _log_flags(rfm, as_of=True)
    rfm.add_argument("-k", type=int, default=5, help="number of score levels (default 5)")
    _output_flags(rfm)

    seg = command(
        "segments",
        "which audiences each row belongs to, from rules such as "
        "'frequency >= 3 and segment == \"Champions\"'",
        _segments,
    )
    seg.add_argument("file", help="a table with one row per customer (.csv, .jsonl, .parquet, -)")
    seg.add_argument("--format", choices=FORMATS, help="format of FILE (default: its extension)")
    seg.add_argument(
        "--audience",
        action="append",
        required=True,
        metavar="NAME=RULE",
        help="an audience and its rule; repeat for several",
    )
    seg.add_argument("--customer", default="customer_id", help="id column (default customer_id)")
    _output_flags(seg)

    life = command(
        "lifecycle",
        "lifecycle stage per customer (new, active, at risk, dormant, ...) from a transaction log",
        _lifecycle,
    )
    _log_flags(life, as_of=True, amount=False)
    _output_flags(life)

    coh = command(
        "cohorts", "acquisition cohorts: customers active and retention per period", _cohorts
    )
    _log_flags(coh, as_of=True, unit="M")
    _output_flags(coh)

    rules = command("rules", "work with rules of the rule language", _no_subcommand)
    rules_sub = rules.add_subparsers(dest="rules_command", metavar="COMMAND")
    check = rules_sub.add_parser(
        "check",
        help="parse a rule and print it back, or say where it is wrong",
        description="Parse RULE and print its normal form; with --against FILE also check "
        "that every field it names is a column of FILE.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("rule", help="the rule text, e.g. 'frequency >= 3'")
    check.add_argument("--against", metavar="FILE", help="a table whose columns the rule reads")
    check.add_argument("--format", choices=FORMATS, help="format of --against FILE")
    check.set_defaults(handler=_rules_check)

    schema = command(
        "schema",
        "the JSON Schema of a record type (Deal, Profile, Event, ...); "
        "without NAME, the list of names",
        _schema,
    )
    schema.add_argument("name", nargs="?", help="a record type, e.g. Deal or funnel.Deal")

    plot = command(
        "plot",
        "draw a figure of a transaction log into a .png, .svg or .pdf file (needs matplotlib): "
        "cohorts (retention heatmap), rfm (R x F heatmap), segments (customers and revenue "
        "per RFM segment), distributions (R, F and M histograms)",
        _plot,
    )
    plot.add_argument("figure", choices=_FIGURES, help="which figure")
    _log_flags(plot, as_of=True, unit="M")
    plot.add_argument("-o", "--output", required=True, help="the image file (.png, .svg, .pdf)")
    return parser


def _log_flags(
    p: argparse.ArgumentParser, *, as_of: bool, amount: bool = True, unit: str | None = "D"
) -> None:
    p.add_argument("file", help="the table to read (.csv, .jsonl, .parquet, or - for stdin)")
    p.add_argument("--format", choices=FORMATS, help="format of FILE (default: its extension)")
    if as_of:
        p.add_argument(
            "--as-of", required=True, help="end of the observation window (ISO date or timestamp)"
        )
    else:
        p.add_argument(
            "--as-of",
            default=None,
            help="FILE is a transaction log: summarise it as of this date first; "
            "without it FILE is a customer summary (frequency, recency, T)",
        )
    default = unit if unit is not None else "the unit of the fitted model"
    p.add_argument("--unit", default=unit, help=f"time unit D, W, M, Q or Y (default {default})")
    p.add_argument("--customer", default="customer_id", help="id column (default customer_id)")
    p.add_argument("--time", default="timestamp", help="time column (default timestamp)")
    if amount:
        p.add_argument("--amount", default=None, help="amount column (default: none)")
    p.add_argument(
        "--tz",
        default=None,
        help="timezone of times written without an offset, e.g. UTC or Europe/Paris",
    )


def _exclude_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--exclude-after-as-of",
        action="store_true",
        help="leave out (and count) transactions after --as-of instead of failing",
    )


def _output_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-o",
        "--output",
        default=None,
        help="write here (.csv, .jsonl or .parquet; - for stdout) instead of stdout",
    )
    p.add_argument(
        "--output-format",
        choices=FORMATS,
        default=None,
        help="format of the output (default: the extension of -o, else csv)",
    )


def _no_subcommand(args: argparse.Namespace) -> None:
    raise ArgumentError("say what to do: clientmodel rules check RULE", field="command")


# ---------------------------------------------------------------------------- reading
@contextmanager
def _lines_of(table: Input, *, customers: Any = None) -> Iterator[None]:
    """Turn the library's 0-based row positions into the file's 1-based lines.

    With ``customers`` (the ids of the customer summary of a log) the rows are those of the
    summary, not of the file: they are named by customer id.
    """
    try:
        yield
    except ClientModelError as exc:
        if customers is not None:
            ids = np.asarray(customers)

            def customer(match: re.Match[str]) -> str:
                row = int(match.group(1))
                return f"customer {ids[row]!s}" if 0 <= row < ids.size else match.group(0)

            text = re.sub(r"\brows? (\d+)", customer, str(exc))
            exc.message = f"{table.name} (summarised per customer): {text}"
            exc.args = (exc.message,)
            raise
        rows = [r for r in exc.rows if 0 <= r < len(table.lines)]
        if rows:

            def line(match: re.Match[str]) -> str:
                row = int(match.group(1))
                if 0 <= row < len(table.lines):
                    return f"{table.what} {table.lines[row]}"
                return match.group(0)

            text = re.sub(r"\brows? (\d+)", line, str(exc))
            exc.message = f"{table.name}: {text}"
            exc.args = (exc.message,)
        raise


def _log(args: argparse.Namespace) -> tuple[Input, dict[str, Any], str | None]:
    """The transaction log: columns with the time column as wall-clock values, and its tz."""
    from clientmodel.tables import read_table

    table = read_input(args.file, args.format)
    require_ids(table, args.customer, "--customer")
    if args.time not in table.columns:
        raise DataError(
            f"{table.name} has no column {args.time!r} (columns: {', '.join(table.columns)}); "
            "name the time column with --time NAME",
            field=args.time,
        )
    amount = getattr(args, "amount", None)
    if amount is not None and amount not in table.columns:
        raise DataError(
            f"{table.name} has no column {amount!r} (columns: {', '.join(table.columns)}); "
            "name the amount column with --amount NAME",
            field=amount,
        )
    with _lines_of(table):
        column = _iso_read(table.columns[args.time])
        stamps = read_table({args.time: column}).timestamps(args.time, tz=args.tz)
    columns = dict(table.columns)
    values = stamps.values
    if stamps.tz is None:  # calendar dates
        values = values.astype("datetime64[D]")
    columns[args.time] = values
    return table, columns, stamps.tz


def _iso_read(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """ISO strings read by the library's one parser (``Z`` included, on every Python).

    A value it cannot read is left as it is, for the table reader to report with its line.
    """
    if values.dtype != object or all(isinstance(v, str) and len(v) == 10 for v in values):
        return values
    out: np.ndarray[Any, Any] = values.copy()
    for i, v in enumerate(values):
        if isinstance(v, str):
            with suppress(ArgumentError):
                out[i] = parse_timestamp(v)
    return out


def _summary(args: argparse.Namespace) -> tuple[Input, Any, str | None]:
    """The customer summary: summarised from a log with --as-of, else read as it is."""
    from clientmodel.transactions import summarize

    if args.as_of is None:
        table = read_input(args.file, args.format)
        return table, table.columns, args.tz
    table, columns, tz = _log(args)
    with _lines_of(table):
        summary = summarize(
            columns,
            as_of=args.as_of,
            unit=args.unit,
            customer=args.customer,
            time=args.time,
            amount=getattr(args, "amount", None),
            tz=tz,
            after_as_of="exclude" if args.exclude_after_as_of else "error",
        )
    note = _excluded_note(summary, args.as_of)
    if note and hasattr(args, "notes"):
        args.notes.append(note)
    return table, summary, tz


def _excluded_note(summary: Mapping[str, Any], as_of: str) -> str:
    """How many rows --exclude-after-as-of left out ("" for none): nothing is dropped silently."""
    if "excluded_after_as_of" not in summary:
        return ""
    counts = np.asarray(summary["excluded_after_as_of"])
    total, customers = int(counts.sum()), int(np.count_nonzero(counts))
    if not total:
        return ""
    return (
        f"note: --exclude-after-as-of left out {total} transaction(s) after --as-of {as_of} "
        f"({customers} customer(s); see the excluded_after_as_of column)"
    )


def _ids(args: argparse.Namespace, summary: Mapping[str, Any]) -> Any:
    """The customer ids of a summary made from a log (None when the file is the summary)."""
    if args.as_of is None:
        return None
    return summary.get(args.customer)


def _write(args: argparse.Namespace, columns: Mapping[str, Any], tz: str | None) -> None:
    write_output(columns, args.output, args.output_format, tz=tz)


# ---------------------------------------------------------------------------- commands
def _summarize(args: argparse.Namespace) -> None:
    _table, summary, tz = _summary(args)
    _write(args, summary, tz)


def _purchase_models() -> dict[str, Any]:
    from clientmodel.ltv import BGNBD, MBGNBD, ParetoNBD

    return {"bgnbd": BGNBD, "mbgnbd": MBGNBD, "pareto_nbd": ParetoNBD}


_PURCHASE_MODELS = ("bgnbd", "mbgnbd", "pareto_nbd")
_FIT_FORMAT = "clientmodel.fitted_models"


def _fit(args: argparse.Namespace) -> None:
    from clientmodel.ltv import GammaGamma

    parse_unit(args.unit, field="unit")
    table, summary, _ = _summary(args)
    with _lines_of(table, customers=_ids(args, summary)):
        purchases = _purchase_models()[args.model].fit(summary)
        spend = None
        if "monetary_value" in summary:
            # Spend is observed only for customers who came back.
            repeat = np.asarray(summary["frequency"]) > 0
            spend = GammaGamma.fit({k: np.asarray(v)[repeat] for k, v in summary.items()})
    fitted = {
        "format": _FIT_FORMAT,
        "format_version": 1,
        "unit": args.unit,
        "purchases": purchases.to_dict(),
        "spend": None if spend is None else spend.to_dict(),
    }
    write_text(json.dumps(fitted, indent=2) + "\n", args.output)


def _load_fitted(path: str) -> tuple[Any, Any, str]:
    from clientmodel.ltv import GammaGamma

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArgumentError(f"--model {path}: not a JSON file ({exc})", field="--model") from None
    if not isinstance(data, dict) or data.get("format") != _FIT_FORMAT:
        raise ArgumentError(
            f"--model {path}: not a file written by clientmodel fit", field="--model"
        )
    classes = {cls.__name__: cls for cls in _purchase_models().values()}
    stored = data.get("purchases")
    name = stored.get("model") if isinstance(stored, dict) else None
    if name not in classes:
        raise ArgumentError(
            f"--model {path}: unknown purchase model {name!r}; expected one of "
            f"{', '.join(sorted(classes))}",
            field="--model",
        )
    purchases = classes[name].from_dict(data["purchases"])
    spend = None if data.get("spend") is None else GammaGamma.from_dict(data["spend"])
    return purchases, spend, str(data.get("unit", "D"))


def _score(args: argparse.Namespace) -> None:
    from clientmodel.ltv import clv_table

    check_number(args.horizon, "--horizon", minimum=0.0)
    check_number(args.discount_rate, "--discount-rate", minimum=0.0)
    check_number(args.margin, "--margin", minimum=0.0, maximum=1.0)
    purchases, spend, unit = _load_fitted(args.model)
    # The summary must be in the unit the model was fitted in.
    if args.unit is not None and parse_unit(args.unit, field="unit") != parse_unit(unit):
        raise ArgumentError(
            f"--unit {args.unit} differs from the unit of the fitted model ({unit}); leave "
            "--unit out to use the model's",
            field="--unit",
        )
    args.unit = unit
    table, summary, tz = _summary(args)
    customer = args.customer if args.customer in summary else None
    with _lines_of(table, customers=_ids(args, summary)):
        if spend is not None and "monetary_value" in summary:
            scores = dict(
                clv_table(
                    purchases,
                    spend,
                    summary,
                    horizon=args.horizon,
                    discount_rate=args.discount_rate,
                    margin=args.margin,
                    unit=unit,
                    customer=customer,
                )
            )
        else:
            scores = {} if customer is None else {customer: summary[customer]}
            scores["p_alive"] = purchases.p_alive(summary)
            scores["expected_purchases"] = purchases.expected_purchases(summary, args.horizon)
        scores["churn_risk"] = 1.0 - np.asarray(scores["p_alive"], dtype=np.float64)
    _write(args, scores, tz)


def _rfm(args: argparse.Namespace) -> None:
    from clientmodel.segments import fit_rfm, rfm_values

    table, columns, tz = _log(args)
    if args.amount is None:
        raise ArgumentError("RFM needs the amount column: pass --amount NAME", field="--amount")
    with _lines_of(table):
        values = rfm_values(
            columns,
            as_of=args.as_of,
            customer=args.customer,
            time=args.time,
            amount=args.amount,
            tz=tz,
        )
    scored = fit_rfm(values, k=args.k).score(values, customer=args.customer, segments="default")
    _write(args, {**values, **scored}, tz)


def _segments(args: argparse.Namespace) -> None:
    from clientmodel.segments import audience_table

    table = read_input(args.file, args.format)
    audiences: dict[str, str] = {}
    for item in args.audience:
        match = re.fullmatch(r"\s*([A-Za-z_][\w.-]*)\s*=(?!=)(.*)", item, flags=re.S)
        name, rule = match.groups() if match else ("", "")
        if not rule.strip():
            raise ArgumentError(
                f"--audience {item!r}: write NAME=RULE, e.g. --audience 'vip=frequency >= 3'",
                field="--audience",
            )
        audiences[name.strip()] = rule.strip()
    customer = args.customer if args.customer in table.columns else None
    if customer is not None:
        require_ids(table, customer, "--customer")
    with _lines_of(table):
        members = audience_table(table.columns, audiences, customer=customer)
    _write(args, members, None)


def _lifecycle(args: argparse.Namespace) -> None:
    from clientmodel.segments import lifecycle_stages

    table, columns, tz = _log(args)
    with _lines_of(table):
        stages = lifecycle_stages(
            columns,
            as_of=args.as_of,
            unit=args.unit,
            customer=args.customer,
            time=args.time,
            tz=tz,
        )
    _write(args, stages, tz)


def _cohorts(args: argparse.Namespace) -> None:
    from clientmodel.segments import cohort_table

    table, columns, tz = _log(args)
    with _lines_of(table):
        cohorts = cohort_table(
            columns,
            as_of=args.as_of,
            unit=args.unit,
            customer=args.customer,
            time=args.time,
            amount=args.amount,
            tz=tz,
        )
    _write(args, cohorts.rows(), None)


def _rules_check(args: argparse.Namespace) -> None:
    from clientmodel import rules

    rule = rules.parse(args.rule)
    if args.against is not None:
        table = read_input(args.against, args.format)
        schema = {
            name: "number" if values.dtype.kind in "if" else "any"
            for name, values in table.columns.items()
        }
        problems = rules.check(rule, schema)
        if problems:
            raise problems[0]
    print(rules.to_text(rule))


_FIGURES = ("cohorts", "rfm", "segments", "distributions")
_IMAGE_TYPES = (".png", ".svg", ".pdf")


def _plot(args: argparse.Namespace) -> None:
    if not args.output.lower().endswith(_IMAGE_TYPES):
        raise ArgumentError(
            f"-o {args.output}: name the image .png, .svg or .pdf", field="--output"
        )
    from clientmodel import plotting
    from clientmodel.plotting._mpl import pyplot
    from clientmodel.segments import cohort_table, fit_rfm, rf_grid, rfm_values

    pyplot().switch_backend("Agg")  # a file, never a window
    table, columns, tz = _log(args)
    with _lines_of(table):
        if args.figure == "cohorts":
            cohorts = cohort_table(columns, as_of=args.as_of, unit=args.unit,
                                   customer=args.customer, time=args.time, tz=tz)  # fmt: skip
            figure = plotting.plot_cohort_retention(cohorts).figure
        else:
            if args.amount is None:
                raise ArgumentError(
                    f"the {args.figure} figure needs the amounts: pass --amount NAME",
                    field="--amount",
                )
            values = rfm_values(columns, as_of=args.as_of, customer=args.customer,
                                time=args.time, amount=args.amount, tz=tz)  # fmt: skip
    if args.figure == "distributions":
        figure = plotting.plot_rfm_distributions(values)[0].figure
    elif args.figure in ("rfm", "segments"):
        scored = fit_rfm(values).score(values, customer=args.customer, segments="default")
        if args.figure == "rfm":
            figure = plotting.plot_rfm_heatmap(rf_grid(scored)).figure
        else:
            figure = plotting.plot_segment_summary({**values, **scored}).figure
    figure.savefig(args.output, dpi=120)


def _record_types() -> dict[str, type]:
    import pydantic

    from clientmodel.accounts import models as accounts
    from clientmodel.funnel import models as funnel
    from clientmodel.profile import models as profile

    found: dict[str, type] = {}
    for module, prefix in ((funnel, "funnel"), (accounts, "accounts"), (profile, "profile")):
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, pydantic.BaseModel):
                found[f"{prefix}.{name}"] = obj
    return found


def _schema(args: argparse.Namespace) -> None:
    types = _record_types()
    if args.name is None:
        print("\n".join(sorted(types)))
        return
    short: dict[str, list[str]] = {}
    for full in types:
        short.setdefault(full.split(".")[1], []).append(full)
    matches = [args.name] if args.name in types else short.get(args.name, [])
    if len(matches) != 1:
        which = f" ({', '.join(matches)}: name one)" if matches else ""
        hint = did_you_mean(args.name, {*types, *short})
        raise ArgumentError(
            f"no record type {args.name!r}{which or hint}; `clientmodel schema` lists them",
            field="name",
        )
    model: Any = types[matches[0]]
    print(json.dumps(model.model_json_schema(), indent=2))


# ---------------------------------------------------------------------------- demo
def _demo(args: argparse.Namespace) -> None:
    print(f"clientmodel {__version__} demo: a small synthetic company, end to end")
    context: dict[str, Any] = {"seed": args.seed}
    for title, section in _DEMO_SECTIONS:
        print(f"\n== {title}")
        section(context)


def _demo_customers(ctx: dict[str, Any]) -> None:
    from clientmodel.datasets.transactions import make_transactions
    from clientmodel.transactions import summarize

    log = make_transactions(3000, seed=ctx["seed"], start=dt.date(2024, 1, 1))
    summary = summarize(log, as_of=_DEMO_AS_OF, unit="W", amount="amount", tz="UTC")
    ctx["summary"] = summary
    freq = summary["frequency"]
    print(
        f"{len(log['amount']):,} purchases by {len(freq):,} customers as of {_DEMO_AS_OF}; "
        f"{np.mean(freq > 0):.0%} bought again, mean repeat purchases {freq.mean():.2f}, "
        f"revenue {summary['revenue'].sum():,.0f}"
    )


def _demo_lifetime_value(ctx: dict[str, Any]) -> None:
    from clientmodel.ltv import BGNBD, GammaGamma, clv

    summary = ctx["summary"]
    model = BGNBD.fit(summary)
    report = model.fit_report
    assert report is not None
    params = ", ".join(f"{k}={v:.3f}" for k, v in model.params.items())
    print(f"BG/NBD fitted ({params}), log-likelihood {report.log_likelihood:,.1f}")
    alive = model.p_alive(summary)
    next_quarter = model.expected_purchases(summary, 13.0)
    print(
        f"customers probably gone (P(alive) < 0.3): {np.mean(alive < 0.3):.0%}; "
        f"expected purchases next 13 weeks: {np.sum(next_quarter):,.0f}"
    )
    ctx["bgnbd"] = model
    spend = GammaGamma.fit(summary)
    value = np.atleast_1d(clv(model, spend, summary, horizon=52.0, discount_rate=0.10, margin=0.3))
    top = np.sort(value)[::-1][: max(1, len(value) // 10)]
    print(
        f"12-month CLV at 30% margin, 10% a year: total {value.sum():,.0f}; the top 10% of "
        f"customers hold {top.sum() / value.sum():.0%} of it"
    )
    ctx["clv"] = value


def _demo_segments(ctx: dict[str, Any]) -> None:
    from collections import Counter

    from clientmodel.rules import evaluate_table
    from clientmodel.segments import fit_rfm, lifecycle_from_summary, rfm_from_summary

    summary = ctx["summary"]
    values = rfm_from_summary(summary, unit="W")
    scored = fit_rfm(values).score(values, segments="default")
    counts = Counter(scored["segment"].tolist()).most_common(4)
    print("RFM segments: " + ", ".join(f"{name} {n:,}" for name, n in counts) + ", ...")
    # A dict summary holds wall-clock UTC times (numpy has no timezone): say so.
    stages = lifecycle_from_summary(summary, as_of=_DEMO_AS_OF, model=ctx["bgnbd"], tz="UTC")
    shares = Counter(stages["stage"].tolist())
    total = sum(shares.values())
    print(
        "lifecycle (P(alive) windows): "
        + ", ".join(f"{s} {n / total:.0%}" for s, n in shares.most_common())
    )
    rule = 'segment in ["Champions", "Loyal"] and clv >= 20'
    audience = evaluate_table(rule, {"segment": scored["segment"], "clv": ctx["clv"]})
    print(f"audience `{rule}`: {int(np.sum(audience)):,} customers")


def _demo_profiles(ctx: dict[str, Any]) -> None:
    from collections import Counter

    from clientmodel.datasets.consumers import make_consumers
    from clientmodel.profile import fold_events, resolve_table

    data = make_consumers(300, seed=ctx["seed"])
    ids = data.identifiers
    # The dataset's numpy times are wall-clock UTC (numpy has no timezone): say so.
    resolution = resolve_table(ids, tz="UTC")
    records = resolution.records_table()
    person = dict(zip(ids["record_id"].tolist(), ids["person_id"].tolist(), strict=True))
    people: dict[Any, set[Any]] = {}
    for rec, prof in zip(
        records["record_id"].tolist(), records["profile_id"].tolist(), strict=True
    ):
        people.setdefault(prof, set()).add(person[rec])
    mixed = sum(len(p) > 1 for p in people.values())
    print(
        f"{resolution.n_records:,} identifier records of {len(set(person.values()))} people -> "
        f"{resolution.n_profiles} profiles; profiles mixing two people: {mixed}; merges refused "
        f"by identifier limits: {len(resolution.refusals)}"
    )
    folded = fold_events(data.events, as_of=data.as_of, tz="UTC").profiles
    intent = np.asarray(folded["intent"], dtype=np.float64)
    topics = Counter(t for t in folded["top_topic"].tolist() if t is not None).most_common(3)
    print(
        f"{len(data.events['event_id']):,} events folded into {len(intent)} profiles; "
        f"high intent (>= 0.6): {np.mean(intent >= 0.6):.0%}; top interests: "
        + ", ".join(f"{t} {n}" for t, n in topics)
    )


def _demo_funnel(ctx: dict[str, Any]) -> None:
    from clientmodel.datasets.deals import make_deals
    from clientmodel.funnel import conversion, fit_chain

    data = make_deals(600, seed=ctx["seed"])
    deals = list(data.deals)
    funnel = conversion(deals, pipeline=data.pipeline, as_of=data.as_of)
    steps = " -> ".join(f"{s} {n}" for s, n in zip(funnel["stage"], funnel["reached"], strict=True))
    print(f"{len(deals)} deals; reached: {steps}")
    chain = fit_chain(deals, as_of=data.as_of, pipeline=data.pipeline)
    table = chain.table()
    wins = ", ".join(
        f"{s} {w:.0%}" for s, w in zip(table["stage"], table["win_probability"], strict=True)
    )
    print(f"win probability from each stage (absorbing Markov chain): {wins}")


def _demo_accounts(ctx: dict[str, Any]) -> None:
    from clientmodel.accounts import committee_coverage, warm_paths
    from clientmodel.datasets.accounts import make_accounts

    data = make_accounts(n_accounts=20, seed=ctx["seed"])
    graph = data.graph()
    deal = max((d for d in data.deals if d.status == "open"), key=lambda d: d.amount)
    cov = committee_coverage(graph, deal.id, as_of=data.as_of, window=dt.timedelta(days=90))
    print(
        f"largest open deal {deal.name}: {deal.amount:,} {deal.currency}, committee "
        f"{cov.status.upper()}, roles covered {cov.coverage:.0%}"
    )
    missing = [r.role for r in cov.roles if not r.filled]
    if missing:
        print(f"roles nobody fills yet: {', '.join(missing)}")
    deciders = [c for r in cov.roles if r.role == "decision_maker" for c in r.holders]
    if deciders:
        paths = warm_paths(graph, deciders[0], k=1)
        if paths:
            print(f"best warm path to the decision maker: {paths[0].explanation}")


def _demo_day_plan(ctx: dict[str, Any]) -> None:
    from clientmodel.datasets.accounts import make_accounts
    from clientmodel.datasets.consumers import make_consumers
    from clientmodel.view import demo_day_plan

    consumers = make_consumers(300, seed=ctx["seed"])
    accounts = make_accounts(8, seed=ctx["seed"], as_of=consumers.as_of)
    print(demo_day_plan(consumers, accounts, seed=ctx["seed"]).render())


_DEMO_SECTIONS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("Customers: transaction log -> customer summary", _demo_customers),
    ("Lifetime value and churn", _demo_lifetime_value),
    ("Segments, lifecycle and audiences", _demo_segments),
    ("Consumer profiles", _demo_profiles),
    ("Sales funnel", _demo_funnel),
    ("Account graph", _demo_accounts),
    ("The day's plan: both halves joined (customer 360 and next best actions)", _demo_day_plan),
]
