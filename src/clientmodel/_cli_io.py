"""Files in and out for the ``clientmodel`` command: CSV, JSON lines and parquet, ``-`` for stdio.

Everything a person can get wrong about a file (its encoding, a ragged row, a line that is not a
JSON object, a blank id) becomes a :class:`~clientmodel.errors.DataError` that names the file and
its 1-based line, so the command prints one line and exits with code 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

import attrs
import numpy as np

from clientmodel.errors import ArgumentError, DataError
from clientmodel.periods import timezone

FORMATS = ("csv", "jsonl", "parquet")
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
_INT = re.compile(r"[+-]?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(inf|nan)", re.I)


@attrs.frozen(eq=False)
class Input:
    """A table read from a file: columns, and the file line (1-based) of each row."""

    name: str
    columns: dict[str, np.ndarray[Any, Any]]
    lines: list[int]
    what: str = "line"  # "line" for text files, "row" for parquet

    def where(self, row: int) -> str:
        """``"log.csv line 7"`` for a 0-based row position."""
        return f"{self.name} {self.what} {self.lines[row]}"


def file_format(path: str, given: str | None, *, flag: str) -> str:
    """The format of ``path``: ``given`` (from ``--format``) or its extension."""
    if given is not None:
        return given
    if path == "-":
        return "csv"
    for ext, fmt in _EXTENSIONS.items():
        if path.lower().endswith(ext):
            return fmt
    raise ArgumentError(
        f"cannot tell the format of {path!r} from its extension; name it .csv, .jsonl or "
        f".parquet, or pass {flag} csv|jsonl|parquet",
        field=flag,
    )


def read_input(path: str, fmt: str | None = None) -> Input:
    """Read a table from ``path`` (``-`` for stdin) as CSV, JSON lines or parquet."""
    kind = file_format(path, fmt, flag="--format")
    name = "stdin" if path == "-" else path
    if kind == "parquet":
        return _read_parquet(path, name)
    raw = _read_bytes(path)
    text = _decode(raw, name)
    table = _read_jsonl(text, name) if kind == "jsonl" else _read_csv(text, name)
    if not table.lines:
        raise DataError(f"{name} holds no rows")
    return table


def _read_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as fh:
        return fh.read()


def _decode(raw: bytes, name: str) -> str:
    # Excel's "CSV UTF-8" starts with a byte-order mark: it is not part of the first column name.
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{name} is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); save it "
            "as UTF-8 (in Excel: 'CSV UTF-8'), or convert it with iconv -f <encoding> -t UTF-8"
        ) from None


def _read_csv(text: str, name: str) -> Input:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{name} is empty; expected a header line of column names") from None
    except csv.Error as exc:
        raise DataError(f"{name} line 1 is not valid CSV ({exc})") from None
    header = [h.strip() for h in header]
    _check_header(header, name)
    rows: list[list[str]] = []
    lines: list[int] = []
    end = reader.line_num
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataError(f"{name} line {start} is not valid CSV ({exc})") from None
        end = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # a blank line
        if len(row) != len(header):
            raise DataError(
                f"{name} line {start} has {len(row)} field(s) but the header has "
                f"{len(header)} ({', '.join(header)}); quote values that contain a comma"
            )
        rows.append(row)
        lines.append(start)
    columns = {h: _typed([r[i] for r in rows]) for i, h in enumerate(header)}
    return Input(name=name, columns=columns, lines=lines)


def _check_header(header: Sequence[str], name: str) -> None:
    blank = [i + 1 for i, h in enumerate(header) if not h]
    if blank:
        raise DataError(f"{name} line 1: column {blank[0]} of the header has no name")
    seen: set[str] = set()
    for h in header:
        if h in seen:
            raise DataError(f"{name} line 1: column name {h!r} appears twice in the header")
        seen.add(h)


def _typed(values: list[str]) -> np.ndarray[Any, Any]:
    """A CSV column as int64 or float64 when every filled cell is such a number, else text.

    Text with leading zeros (ids such as "0042") stays text; empty cells are nulls.
    """
    cells = [v.strip() for v in values]
    filled = [v for v in cells if v]
    if filled and len(filled) == len(cells):
        if all(_INT.fullmatch(v) for v in filled):
            try:
                return np.array([int(v) for v in filled], dtype=np.int64)
            except OverflowError:
                pass
        if all(_FLOAT.fullmatch(v) and not re.match(r"[+-]?0[0-9]", v) for v in filled):
            return np.array([float(v) for v in filled], dtype=np.float64)
    return np.array([v if v else None for v in cells], dtype=object)


def _read_jsonl(text: str, name: str) -> Input:
    records: list[Mapping[str, Any]] = []
    lines: list[int] = []
    # Split on newlines only: U+2028 and friends may stand unescaped inside JSON strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{name} line {number} is not JSON ({exc.msg})") from None
        if not isinstance(value, dict):
            raise DataError(
                f"{name} line {number} is a JSON {type(value).__name__.replace('dict', 'object')}"
                ", not an object; each line must be one object such as "
                '{"customer_id": "a", "timestamp": "2024-01-31T10:00:00+00:00"}'
            )
        records.append(value)
        lines.append(number)
    names = list(dict.fromkeys(k for r in records for k in r))
    columns = {n: _column([r.get(n) for r in records]) for n in names}
    return Input(name=name, columns=columns, lines=lines)


def _column(values: list[Any]) -> np.ndarray[Any, Any]:
    if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        try:
            return np.array(values, dtype=np.int64)
        except OverflowError:
            pass
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.float64)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _read_parquet(path: str, name: str) -> Input:
    pq = _pyarrow_parquet("reading")
    source: str | BinaryIO = path if path != "-" else io.BytesIO(sys.stdin.buffer.read())
    try:
        table = pq.read_table(source)
    except Exception as exc:  # pyarrow raises several kinds for a file that is not parquet
        raise DataError(f"{name} is not a parquet file ({exc})") from None
    columns = {n: _column(table.column(n).to_pylist()) for n in table.column_names}
    return Input(name=name, columns=columns, lines=list(range(1, table.num_rows + 1)), what="row")


def _pyarrow_parquet(doing: str) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ArgumentError(
            f"{doing} parquet needs pyarrow: pip install pyarrow (or use .csv / .jsonl)",
            field="--output" if doing == "writing" else "--format",
        ) from None
    return pq


def require_ids(table: Input, column: str, flag: str) -> None:
    """Refuse a missing or blank id: every row must say whose it is."""
    if column not in table.columns:
        raise DataError(
            f"{table.name} has no column {column!r} (columns: {', '.join(table.columns)}); "
            f"name the id column with {flag} NAME",
            field=column,
        )
    values = table.columns[column]
    if values.dtype == object:
        blank = [
            i for i, v in enumerate(values) if v is None or (isinstance(v, str) and not v.strip())
        ]
        if blank:
            more = f" (and {len(blank) - 1} more)" if len(blank) > 1 else ""
            raise DataError(
                f"{table.where(blank[0])}: {column!r} is blank{more}; every row needs an id",
                field=column,
            )


# ----------------------------------------------------------------------------- output
def write_output(
    columns: Mapping[str, Any], path: str | None, fmt: str | None, *, tz: str | None
) -> None:
    """Write a table (a mapping of equal-length columns) to ``path`` (stdout for None or ``-``).

    ``datetime64`` columns are wall-clock times in ``tz`` and are written with their UTC offset.
    """
    target = "-" if path is None else path
    kind = file_format(target, fmt, flag="--output-format")
    names = list(columns)
    values = [_cells(np.asarray(columns[n]), tz) for n in names]
    rows = list(zip(*values, strict=True))
    if kind == "parquet":
        pq = _pyarrow_parquet("writing")
        import pyarrow as pa

        table = pa.table({n: list(v) for n, v in zip(names, values, strict=True)})
        if target == "-":
            sink = io.BytesIO()
            pq.write_table(table, sink)
            sys.stdout.buffer.write(sink.getvalue())
        else:
            pq.write_table(table, target)
        return
    out = io.StringIO()
    if kind == "jsonl":
        for row in rows:
            out.write(json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False) + "\n")
    else:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    write_text(out.getvalue(), target)


def write_text(text: str, path: str | None) -> None:
    """Write text to ``path`` (stdout for None or ``-``)."""
    if path is None or path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def _cells(arr: np.ndarray[Any, Any], tz: str | None) -> list[Any]:
    if arr.dtype.kind == "M":
        if arr.dtype == np.dtype("datetime64[D]"):
            return [None if np.isnat(v) else str(v) for v in arr]
        zone = timezone(tz) if tz is not None else None
        out: list[Any] = []
        for v in arr.astype("datetime64[us]"):
            if np.isnat(v):
                out.append(None)
                continue
            wall: dt.datetime = v.item()
            out.append((wall.replace(tzinfo=zone) if zone else wall).isoformat())
        return out
    if arr.dtype.kind == "f":
        return [None if np.isnan(v) else float(v) for v in arr]
    return [_plain(v) for v in arr.tolist()]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value
