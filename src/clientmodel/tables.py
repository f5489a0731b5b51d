"""The one door for tabular input and output.

Every table-facing function in clientmodel reads its input through :func:`read_table` and hands its
result back through :meth:`Table.result`, so all of them accept the same kinds of input and return
the same kind of frame the caller passed in:

* pandas, polars and pyarrow tables (anything narwhals understands eagerly) -> same kind back;
* a plain mapping of column name -> sequence or numpy array -> a ``dict`` of numpy arrays back.

Functions without a lazy face collect a lazy frame (dask, duckdb, a polars ``LazyFrame``, ...)
and treat it as the eager frame it becomes. The aggregations that run on the caller's engine
(the customer summary, RFM inputs, cohort tables) read it through :func:`read_lazy` instead:
a :class:`LazyTable` checks columns and types from the schema alone, builds narwhals
expressions (:class:`LazyTimestamps` turns a timestamp column into integer day numbers and
microseconds that every engine computes alike) and hands back the engine's own lazy frame.

Columns are pulled out as numpy arrays (the heavy numerics run there) with checks that name the
column, show the first offending values with their row positions and say what is accepted.

Timestamps
----------
Calendar days matter (purchases on the same day are merged), so timestamps are handed to the
numerics as *wall-clock* ``datetime64[us]`` values in one reference timezone:

* a timezone-aware column keeps its own timezone (a purchase at 23:30 in Shanghai stays on that
  Shanghai day);
* a naive datetime column is rejected unless the caller names ``tz``;
* a date column (no time of day) is a calendar date and needs no timezone;
* Python ``datetime`` objects with differing offsets are converted to UTC.
"""

from __future__ import annotations

import datetime as dt
import numbers
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

import attrs
import narwhals.stable.v2 as nw
import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import EXACT_INTEGER_LIMIT, boundary, check_choice
from clientmodel.errors import DataError, describe_rows
from clientmodel.periods import timezone

__all__ = [
    "LazyTable",
    "LazyTimestamps",
    "Table",
    "Timestamps",
    "integer_codes",
    "is_lazy",
    "read_lazy",
    "read_table",
]

Kind = Literal["frame", "mapping"]
NumericKind = Literal["float", "int", "count"]


@attrs.frozen
class Timestamps:
    """A timestamp column as wall-clock ``datetime64[us]`` values in one reference timezone.

    ``tz`` is the IANA name (or UTC offset string) of that timezone, or ``None`` for a column of
    calendar dates.
    """

    values: NDArray[np.datetime64]
    tz: str | None


def _bad(column: str, mask: NDArray[np.bool_], values: Any, what: str, accepted: str) -> DataError:
    rows = np.flatnonzero(mask)
    shown = [_plain(values[i]) for i in rows[:5]]
    return DataError(
        f"column {column!r} has {len(rows)} {what}: {describe_rows(rows, shown)}"
        + (f" (and {len(rows) - 5} more)" if len(rows) > 5 else "")
        + f"; {accepted}",
        field=column,
        rows=rows[:5].tolist(),
    )


def _id_kind(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        return "number"
    return type(value).__name__


#: pandas' names for an object column holding one kind of value throughout.
_ONE_KIND = frozenset({"string", "integer", "floating", "mixed-integer-float", "decimal", "bytes"})


def _check_one_id_type(column: str, arr: NDArray[Any]) -> None:
    """Ids of one kind only: text mixed with numbers (a float from a spreadsheet, an inf) would
    sort nowhere and group wrongly."""
    pandas = sys.modules.get("pandas")  # its C type scan is ~10x faster than a Python loop
    if pandas is not None and pandas.api.types.infer_dtype(arr, skipna=False) in _ONE_KIND:
        return
    kinds = set(map(type, arr.tolist()))
    if len(kinds) == 1 or all(issubclass(k, str) for k in kinds):
        return
    labels = np.array([_id_kind(v) for v in arr.tolist()], dtype=object)
    values, counts = np.unique(labels, return_counts=True)
    if len(values) == 1:
        return
    # the most common kind is the intended one; on a tie, text (ids are labels, not amounts)
    main = max(
        zip(values.tolist(), counts.tolist(), strict=True), key=lambda p: (p[1], p[0] == "text")
    )[0]
    rows = np.flatnonzero(labels != main)
    shown = [_plain(arr[i]) for i in rows[:5]]
    raise DataError(
        f"column {column!r} mixes id types: {len(rows)} id(s) are not {main} like the rest "
        f"({describe_rows(rows, shown)}); use one type of id ({main}) in every row",
        field=column,
        rows=rows[:5].tolist(),
    )


def _plain(value: Any) -> Any:
    """A numpy scalar as its Python value, so messages read 'q' rather than np.str_('q')."""
    return value.item() if isinstance(value, np.generic) else value


def _naive(column: str, what: str, *, result: bool = False) -> DataError:
    """The error for wall-clock times read without ``tz``, saying what ``tz`` to pass."""
    origin = (
        " clientmodel hands timestamps back in a dict result this way: pass the timezone of the "
        "timestamps the result was built from (the tz= given then, or the timezone those "
        "timestamps carried; UTC if they carried different offsets)."
        if result
        else ""
    )
    return DataError(
        f"column {column!r} holds {what} (no timezone); pass tz='...' naming the timezone they "
        "are wall-clock times in (an IANA name such as 'UTC' or 'Europe/Paris', or an offset "
        f"such as 'UTC+08:00'), or use timezone-aware timestamps.{origin}",
        field=column,
    )


@attrs.frozen
class Table:
    """A validated view of the caller's table.

    Build it with :func:`read_table`. ``kind`` says how results go back: as the caller's kind of
    frame (``"frame"``) or as a dict of numpy arrays (``"mapping"``).
    """

    kind: Kind
    columns: tuple[str, ...]
    n_rows: int
    _frame: nw.DataFrame[Any] | None = attrs.field(alias="frame")
    _mapping: Mapping[str, Any] | None = attrs.field(alias="mapping")
    name: str = "table"

    # ----------------------------------------------------------------- structure checks
    @boundary
    def require(self, *names: str) -> None:
        """Raise a :class:`DataError` listing every required column that is missing.

        Examples
        --------
        >>> t = read_table({"customer_id": [1], "timestamp": ["2024-01-01"]})
        >>> t.require("customer_id", "timestamp")
        """
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise DataError(
                f"{self.name} is missing required column(s) {missing}; "
                f"it has {list(self.columns)}. Name the right columns with the function's "
                "column arguments (e.g. customer='id').",
                field=missing[0],
            )

    # ----------------------------------------------------------------- raw access
    @boundary
    def raw(self, column: str) -> NDArray[Any]:
        """The column as a numpy array with no conversion beyond what numpy does.

        A sequence mixing strings with other values (a float NaN, a number) stays an object
        array: numpy would turn NaN into the string ``'nan'`` and hide the null.

        Examples
        --------
        >>> read_table({"c": ["a", float("nan")]}).raw("c")
        array(['a', nan], dtype=object)
        """
        self.require(column)
        if self._mapping is not None:
            value = self._mapping[column]
            arr = np.asarray(value)
            if arr.dtype.kind in "US" and not isinstance(value, np.ndarray):
                text = str if arr.dtype.kind == "U" else bytes
                if not all(isinstance(v, text) for v in value):
                    arr = np.asarray(value, dtype=object)
            if arr.ndim != 1:
                arr = np.empty(len(value), dtype=object)
                arr[:] = list(value)
            return arr
        assert self._frame is not None
        return cast("NDArray[Any]", self._frame.get_column(column).to_numpy())

    @boundary
    def dtype(self, column: str) -> Any:
        """The narwhals dtype of a frame column, or the numpy dtype of a mapping column."""
        self.require(column)
        if self._frame is not None:
            return self._frame.schema[column]
        return self.raw(column).dtype

    @boundary
    def nulls(self, column: str) -> NDArray[np.bool_]:
        """Which rows of a column are null (``None``, NaN, NaT or the frame's null).

        Examples
        --------
        >>> read_table({"c": ["a", None, float("nan")]}).nulls("c").tolist()
        [False, True, True]
        """
        self.require(column)
        return self._nulls(column, self.raw(column) if self._frame is None else np.empty(0))

    def _nulls(self, column: str, arr: NDArray[Any]) -> NDArray[np.bool_]:
        if self._frame is not None:
            return cast("NDArray[np.bool_]", self._frame.get_column(column).is_null().to_numpy())
        if arr.dtype.kind in "fc":
            return np.asarray(np.isnan(arr), dtype=bool)
        if arr.dtype.kind in "mM":
            return np.asarray(np.isnat(arr), dtype=bool)
        if arr.dtype.kind == "O":
            return np.fromiter(
                (v is None or (isinstance(v, float) and v != v) for v in arr),
                dtype=bool,
                count=len(arr),
            )
        return np.zeros(len(arr), dtype=bool)

    # ----------------------------------------------------------------- typed access
    @boundary
    def ids(self, column: str) -> NDArray[Any]:
        """An identifier column (any hashable values), rejecting nulls."""
        arr = self.raw(column)
        nulls = self._nulls(column, arr)
        if nulls.any():
            raise _bad(column, nulls, arr, "null id(s)", "every row needs an id")
        if arr.dtype == object and len(arr):
            _check_one_id_type(column, arr)
        if arr.dtype.kind == "f":
            infinite = np.isinf(arr)
            if infinite.any():
                raise _bad(column, infinite, arr, "infinite id(s)", "ids must be finite")
        return arr

    @boundary
    def factorize(self, column: str) -> tuple[NDArray[np.int64], NDArray[Any]]:
        """An id column as integer codes into its sorted distinct values.

        Frames factorize natively (a hash-based pass, much faster than sorting strings in
        numpy), and only the distinct values are copied out.

        Examples
        --------
        >>> codes, uniques = read_table({"c": ["b", "a", "b"]}).factorize("c")
        >>> codes.tolist(), uniques.tolist()
        ([1, 0, 1], ['a', 'b'])
        """
        if self._frame is not None:
            series = self._frame.get_column(column)
            if series.null_count() or series.dtype.is_float() or series.dtype == nw.Object:
                self.ids(column)  # refuses nulls, infinite ids and mixed kinds, naming the rows
            native = series.to_native()
            if series.dtype.is_integer():
                return integer_codes(series.to_numpy())
            if nw.dependencies.is_pandas_series(native):
                codes, found = _pd_factorize(native)
                return codes.astype(np.int64), np.asarray(found)
            codes = series.rank(method="dense").to_numpy().astype(np.int64) - 1
            first = np.empty(int(codes.max()) + 1 if len(codes) else 0, dtype=np.int64)
            first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
            return codes, series[first.tolist()].to_numpy()
        ids = self.ids(column)
        if ids.dtype.kind in "iu":
            return integer_codes(ids)
        try:
            uniques, inverse = np.unique(ids, return_inverse=True)
        except TypeError as exc:
            raise DataError(
                f"column {column!r} mixes id types that cannot be ordered (e.g. numbers and "
                "strings); use one type of id",
                field=column,
            ) from exc
        return inverse.astype(np.int64).reshape(-1), uniques

    @boundary
    def numbers(
        self,
        column: str,
        *,
        kind: NumericKind = "float",
        allow_null: bool = False,
        min_value: float | None = None,
    ) -> NDArray[Any]:
        """A numeric column as float64 (``kind="float"``) or int64 (``"int"``/``"count"``).

        Strings are parsed; anything unparseable, non-finite or (unless ``allow_null``) null is
        reported with its rows. ``"count"`` also requires whole numbers >= 0.

        Examples
        --------
        >>> read_table({"x": ["1.5", 2]}).numbers("x")
        array([1.5, 2. ])
        """
        check_choice(kind, "kind", ("float", "int", "count"))
        arr = self.raw(column)
        nulls = self._nulls(column, arr)
        if nulls.any() and not allow_null:
            raise _bad(column, nulls, arr, "null value(s)", "fill or drop them first")
        if arr.dtype.kind == "c" or (
            arr.dtype.kind == "O" and any(isinstance(v, complex) for v in arr)
        ):
            cplx = np.fromiter((complex(v).imag != 0 for v in arr), dtype=bool, count=len(arr))
            raise _bad(column, cplx, arr, "complex value(s)", "use real numbers")
        if arr.dtype.kind in "biuf":
            out = arr.astype(np.float64)
        else:
            out = np.full(len(arr), np.nan)
            unparseable = np.zeros(len(arr), dtype=bool)
            for i, v in enumerate(arr):
                if nulls[i]:
                    continue
                try:
                    out[i] = float(v)
                except (TypeError, ValueError):
                    unparseable[i] = True
            if unparseable.any():
                raise _bad(column, unparseable, arr, "value(s) that are not numbers", "use numbers")
        bad = ~np.isfinite(out) & ~nulls
        if bad.any():
            raise _bad(column, bad, arr, "non-finite value(s)", "use finite numbers")
        if min_value is not None:
            low = (out < min_value) & ~nulls
            if low.any():
                raise _bad(column, low, arr, f"value(s) below {min_value}", f"use >= {min_value}")
        if kind == "float":
            return out
        frac = (out != np.round(out)) & ~nulls
        if frac.any():
            raise _bad(column, frac, arr, "non-integer value(s)", "use whole numbers")
        if kind == "count":
            neg = (out < 0) & ~nulls
            if neg.any():
                raise _bad(column, neg, arr, "negative count(s)", "counts are >= 0")
        if arr.dtype.kind in "iu" and not nulls.any():
            # integer input stays exact (the float64 copy above is only for the checks)
            if arr.dtype.kind == "u" and len(arr) and int(arr.max()) > np.iinfo(np.int64).max:
                big = arr > np.iinfo(np.int64).max
                raise _bad(column, big, arr, "integer(s) beyond int64", "use values below 2**63")
            return arr.astype(np.int64)
        huge = (np.abs(out) >= EXACT_INTEGER_LIMIT) & ~nulls
        if huge.any():
            # a float or text spelling of a whole number is exact only below 2**53
            raise _bad(column, huge, arr, "integer(s) too large", "use whole numbers below 2**53")
        if allow_null and nulls.any():
            return out
        return out.astype(np.int64)

    @boundary
    def timestamps(self, column: str, *, tz: str | None = None) -> Timestamps:
        """A timestamp or date column as wall-clock values in one reference timezone.

        Naive datetimes are rejected unless ``tz`` names the timezone they are in; aware ones keep
        their own timezone (``tz`` then converts them). Nulls are rejected with their rows.

        Examples
        --------
        >>> read_table({"t": ["2024-01-31", "2024-02-01"]}).timestamps("t").values
        array(['2024-01-31T00:00:00.000000', '2024-02-01T00:00:00.000000'],
              dtype='datetime64[us]')
        """
        self.require(column)
        if tz is not None:
            timezone(tz)  # an unknown zone is an error even when the column needs none
        if self._frame is not None:
            return self._frame_timestamps(column, tz)
        return _sequence_timestamps(column, self.raw(column), tz)

    def _frame_timestamps(self, column: str, tz: str | None) -> Timestamps:
        assert self._frame is not None
        series = self._frame.get_column(column)
        nulls = series.is_null().to_numpy()
        if nulls.any():
            raise _bad(
                column, nulls, series.to_list(), "null timestamp(s)", "every row needs a time"
            )
        dtype = series.dtype
        if dtype == nw.Date:
            values = series.to_numpy().astype("datetime64[us]")
            return Timestamps(values, None)
        if dtype == nw.Datetime:
            col_tz = cast("nw.Datetime", dtype).time_zone
            if col_tz is None:
                if tz is None:
                    raise _naive(column, "naive timestamps")
                timezone(tz)
                return Timestamps(series.cast(nw.Datetime("us")).to_numpy(), tz)
            if tz is not None and tz != col_tz:
                timezone(tz)
                series = series.dt.convert_time_zone(tz)
                col_tz = tz
            naive = series.dt.replace_time_zone(None).cast(nw.Datetime("us"))
            return Timestamps(naive.to_numpy(), col_tz)
        return _sequence_timestamps(column, np.asarray(series.to_list(), dtype=object), tz)

    # ----------------------------------------------------------------- output
    @boundary
    def result(self, columns: Mapping[str, Any], *, tz: str | None = None) -> Any:
        """Hand a result back as the caller's kind of table.

        ``columns`` maps names to equal-length numpy arrays. ``datetime64`` columns are
        wall-clock values; when ``tz`` is given they are made aware in that timezone on frames.
        ``datetime64[D]`` columns are calendar dates and come back as date columns on frames.
        """
        arrays = {k: np.asarray(v) for k, v in columns.items()}
        if self.kind == "mapping" or self._frame is None:
            return arrays
        backend = nw.get_native_namespace(self._frame)
        dates = [k for k, v in arrays.items() if v.dtype == np.dtype("datetime64[D]")]
        stamps = [k for k, v in arrays.items() if v.dtype.kind == "M" and k not in dates]
        # Frames build string columns from object arrays many times faster than from numpy '<U'.
        out = nw.from_dict(
            {k: v.astype(object) if v.dtype.kind == "U" else v for k, v in arrays.items()},
            backend=backend,
        )
        if dates:
            out = out.with_columns(nw.col(k).cast(nw.Date) for k in dates)
        if tz is not None and stamps:
            # A fixed offset 'UTC+08:00' is '+08:00' to the engines (polars and pyarrow refuse
            # the former).
            zone = tz[3:] if tz.startswith(("UTC+", "UTC-")) else tz
            out = out.with_columns(nw.col(k).dt.replace_time_zone(zone) for k in stamps)
        return out.to_native()


def _sequence_timestamps(column: str, arr: NDArray[Any], tz: str | None) -> Timestamps:
    """Timestamps from a plain sequence: numpy datetimes, date/datetime objects or ISO strings."""
    if arr.dtype.kind == "M":
        nat = np.isnat(arr)
        if nat.any():
            raise _bad(column, nat, arr, "null timestamp(s)", "every row needs a time")
        values = arr.astype("datetime64[us]")
        is_dates = bool((values == values.astype("datetime64[D]")).all()) and arr.dtype == np.dtype(
            "datetime64[D]"
        )
        if is_dates:
            return Timestamps(values, None)
        if tz is None:
            raise _naive(column, "naive numpy datetimes", result=True)
        timezone(tz)
        return Timestamps(values, tz)
    items = arr.tolist()
    if all(isinstance(v, str) for v in items):
        try:  # the fast path: plain ISO dates such as '2024-01-31'
            if all(len(v) == 10 for v in items):
                return Timestamps(
                    np.array(items, dtype="datetime64[D]").astype("datetime64[us]"), None
                )
        except ValueError:
            pass
    parsed: list[dt.datetime | dt.date | None] = []
    bad = np.zeros(len(items), dtype=bool)
    for i, v in enumerate(items):
        if isinstance(v, str):
            try:
                v = dt.datetime.fromisoformat(v.strip())
                if v.tzinfo is None and v.time() == dt.time(0) and len(items[i].strip()) <= 10:
                    v = v.date()
            except ValueError:
                bad[i] = True
                parsed.append(None)
                continue
        if isinstance(v, (dt.date, dt.datetime)):
            parsed.append(v)
        else:
            bad[i] = True
            parsed.append(None)
    if bad.any():
        raise _bad(
            column,
            bad,
            items,
            "value(s) that are not timestamps",
            "use ISO 8601 dates or timezone-aware timestamps (e.g. '2024-01-31T10:00:00+00:00')",
        )
    datetimes = [v for v in parsed if isinstance(v, dt.datetime)]
    if not datetimes:  # calendar dates only
        return Timestamps(np.array(parsed, dtype="datetime64[D]").astype("datetime64[us]"), None)
    naive = np.array([isinstance(v, dt.datetime) and v.tzinfo is None for v in parsed])
    if naive.any() and tz is None:
        raise _bad(
            column,
            naive,
            items,
            "naive timestamp(s) (no timezone)",
            "pass tz='...' to say which timezone they are in, or use aware timestamps",
        )
    zone = timezone(tz) if tz is not None else None
    offsets = {v.utcoffset() for v in datetimes if v.tzinfo is not None}
    zones = {v.tzinfo for v in datetimes}
    # One named zone shared by every value keeps its wall clock even across a DST change
    # (reading it in UTC would move late-evening times to the next calendar day).
    named = _zone_name(datetimes[0].tzinfo) if len(zones) == 1 else None
    if zone is not None:
        ref_name: str = cast(str, tz)
    elif named is not None:
        ref_name, zone = named, timezone(named)
    elif len(offsets) == 1 and len(zones) == 1:
        ref_name = str(datetimes[0].tzinfo)
        zone = datetimes[0].tzinfo
    else:
        ref_name, zone = "UTC", dt.timezone.utc
    assert zone is not None
    wall = []
    for v in parsed:
        if not isinstance(v, dt.datetime):
            v = dt.datetime(v.year, v.month, v.day, tzinfo=zone)  # type: ignore[union-attr]
        elif v.tzinfo is None:
            v = v.replace(tzinfo=zone)
        wall.append(v.astimezone(zone).replace(tzinfo=None))
    return Timestamps(np.array(wall, dtype="datetime64[us]"), ref_name)


def _zone_name(tzinfo: dt.tzinfo | None) -> str | None:
    """The IANA name of a zone object (zoneinfo's ``key``, pytz's ``zone``), if it has one."""
    name = getattr(tzinfo, "key", None) or getattr(tzinfo, "zone", None)
    return name if isinstance(name, str) and name not in ("UTC", "Z") else None


@boundary
def read_table(data: Any, *, name: str = "table") -> Table:
    """Open the caller's table for reading.

    Parameters
    ----------
    data:
        A pandas or polars DataFrame, a pyarrow Table, or a mapping of column name to a sequence
        or 1-d numpy array (all of the same length).
    name:
        How error messages call this table (e.g. ``"transactions"``).

    Examples
    --------
    >>> t = read_table({"customer_id": ["a", "b"], "amount": [1.0, 2.5]})
    >>> t.kind, t.n_rows, t.columns
    ('mapping', 2, ('customer_id', 'amount'))
    """
    if isinstance(data, Mapping):
        lengths = {}
        for key, value in data.items():
            if not isinstance(key, str):
                raise DataError(f"{name} column names must be strings, got {key!r}", field=str(key))
            if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
                raise DataError(
                    f"{name} column {key!r} must be a sequence or 1-d array, "
                    f"got {type(value).__name__}",
                    field=key,
                )
            if getattr(value, "ndim", 1) != 1:
                raise DataError(
                    f"{name} column {key!r} must be 1-d, got an array of shape {value.shape}",
                    field=key,
                )
            lengths[key] = len(value)
        if len(set(lengths.values())) > 1:
            raise DataError(
                f"{name} columns have different lengths: {lengths}; every column needs one value "
                "per row",
            )
        n = next(iter(lengths.values()), 0)
        return Table("mapping", tuple(data), n, frame=None, mapping=data, name=name)
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        raise DataError(
            f"{name} must be a DataFrame or a mapping of column -> values, got a "
            f"{type(data).__name__}; for a list of records build a dict of columns first",
        )
    duplicated = _duplicated_columns(data)
    if duplicated:
        raise DataError(
            f"{name} has duplicate column name(s) {duplicated}; every column needs its own name",
            field=str(duplicated[0]),
        )
    try:
        frame = nw.from_native(data, eager_only=True)
    except TypeError as exc:
        lazy = _lazy(data)
        if lazy is not None:
            frame = lazy.collect()
        else:
            raise DataError(
                f"{name} must be a pandas/polars DataFrame, a pyarrow Table or a mapping of "
                f"column -> values; got {type(data).__module__}.{type(data).__name__}",
            ) from exc
    return Table("frame", tuple(frame.columns), len(frame), frame=frame, mapping=None, name=name)


def _duplicated_columns(data: Any) -> list[Any]:
    """Column names a native frame holds twice (pandas allows it; narwhals would leak its error)."""
    names = getattr(data, "column_names", None)  # pyarrow's .columns are the arrays
    if names is None:
        names = getattr(data, "columns", None)
    if names is None or isinstance(names, str):
        return []
    seen: set[Any] = set()
    twice = []
    try:
        for n in names:
            if n in seen:
                twice.append(n)
            seen.add(n)
    except TypeError:  # not a sequence of names: narwhals will say what it is
        return []
    return twice


def _lazy(data: Any) -> nw.LazyFrame[Any] | None:
    try:
        return nw.from_native(data)  # type: ignore[no-any-return]
    except TypeError:
        return None


@boundary
def integer_codes(arr: NDArray[Any]) -> tuple[NDArray[np.int64], NDArray[Any]]:
    """Integer ids as codes into their sorted distinct values.

    A direct lookup when the ids span a compact range (no sort, no hashing), else a sort.

    Examples
    --------
    >>> codes, uniques = integer_codes(np.array([7, 3, 7, 5]))
    >>> codes.tolist(), uniques.tolist()
    ([2, 0, 2, 1], [3, 5, 7])
    """
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise DataError(
            f"integer_codes needs a 1-d array of integers, got {arr.ndim}-d {arr.dtype}",
            field="arr",
        )
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64), arr[:0]
    lo, hi = int(arr.min()), int(arr.max())
    span = hi - lo + 1
    if span <= 4 * len(arr) + 1_000_000:
        shifted = (arr - lo).astype(np.int64)
        present = np.zeros(span, dtype=bool)
        present[shifted] = True
        lookup = np.cumsum(present, dtype=np.int64) - 1
        return lookup[shifted], (np.flatnonzero(present) + lo).astype(arr.dtype)
    uniques, inverse = np.unique(arr, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), uniques


def _pd_factorize(native: Any) -> tuple[NDArray[Any], Any]:
    import pandas as pd  # reached only with pandas input, so pandas is installed

    try:
        return pd.factorize(native, sort=True)
    except TypeError as exc:
        raise DataError(
            f"column {native.name!r} mixes id types that cannot be ordered (e.g. numbers and "
            "strings); use one type of id",
            field=str(native.name),
        ) from exc


# --------------------------------------------------------------------------------------- lazy


@boundary
def is_lazy(data: Any) -> bool:
    """Whether ``data`` is a lazy frame narwhals understands (dask, duckdb, polars lazy, ...).

    Examples
    --------
    >>> import polars as pl
    >>> is_lazy(pl.LazyFrame({"x": [1]})), is_lazy(pl.DataFrame({"x": [1]})), is_lazy({"x": [1]})
    (True, False, False)
    """
    if isinstance(data, (Mapping, Sequence, nw.DataFrame)):
        return False
    if isinstance(data, nw.LazyFrame):
        return True
    deps = nw.dependencies
    if deps.is_pandas_dataframe(data) or deps.is_polars_dataframe(data):
        return False  # the common eager inputs, answered without building a narwhals frame
    if deps.is_pyarrow_table(data):
        return False
    try:
        frame = nw.from_native(data)
    except TypeError:
        return False
    return isinstance(frame, nw.LazyFrame)


_US_PER_DAY = 86_400_000_000


def _civil_days(year: nw.Expr, month: nw.Expr, day: nw.Expr) -> nw.Expr:
    """Days since 1970-01-01 of a proleptic Gregorian date, in integer arithmetic only.

    H. Hinnant's ``days_from_civil``: every engine computes it alike (no engine-specific date
    arithmetic), exactly, for years >= 1.
    """
    y, m, d = (e.cast(nw.Int64) for e in (year, month, day))
    y = y - (m <= 2).cast(nw.Int64)
    era = y // 400
    yoe = y - era * 400
    shifted = nw.when(m > 2).then(m - 3).otherwise(m + 9)
    doy = (153 * shifted + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@attrs.frozen
class LazyTimestamps:
    """A timestamp column of a lazy frame as wall-clock expressions in one reference timezone.

    ``wall`` is the naive wall-clock ``Datetime`` expression (a ``Date`` expression for a column
    of calendar dates, then ``tz`` is ``None``), following the rules of :class:`Timestamps`.

    Examples
    --------
    >>> import datetime as dt, polars as pl
    >>> lf = pl.LazyFrame({"t": [dt.datetime(2024, 1, 2, 6, tzinfo=dt.timezone.utc)]})
    >>> ts = read_lazy(lf).timestamps("t")
    >>> ts.tz, nw.from_native(lf).select(ts.days()).collect().item()
    ('UTC', 19724)
    """

    wall: nw.Expr
    tz: str | None
    is_date: bool

    @boundary
    def days(self) -> nw.Expr:
        """Whole days since 1970-01-01 of the wall-clock time (``Int64``)."""
        w = self.wall
        return _civil_days(w.dt.year(), w.dt.month(), w.dt.day())

    @boundary
    def micros(self) -> nw.Expr:
        """Wall-clock microseconds since 1970-01-01 (``Int64``)."""
        days = self.days() * _US_PER_DAY
        if self.is_date:
            return days
        w = self.wall
        return (
            days
            + w.dt.hour().cast(nw.Int64) * 3_600_000_000
            + w.dt.minute().cast(nw.Int64) * 60_000_000
            + w.dt.second().cast(nw.Int64) * 1_000_000
            + w.dt.microsecond().cast(nw.Int64)
        )

    @boundary
    def at_or_before(self, end: np.datetime64) -> nw.Expr:
        """Whether each row's wall-clock time is at or before ``end``.

        ``end`` is a wall-clock ``datetime64`` in :attr:`tz`, such as
        :func:`clientmodel.periods.as_of_value` gives; for calendar dates its day counts.

        Examples
        --------
        >>> import datetime as dt, polars as pl
        >>> lf = pl.LazyFrame({"d": [dt.date(2024, 1, 1), dt.date(2024, 1, 3)]})
        >>> t = read_lazy(lf)
        >>> kept = t.frame.filter(t.timestamps("d").at_or_before(np.datetime64("2024-01-02T12:00")))
        >>> len(kept.collect())
        1
        """
        unit = "datetime64[D]" if self.is_date else "datetime64[us]"
        return self.wall <= nw.lit(end.astype(unit).item())

    @boundary
    def output(self, expr: nw.Expr) -> nw.Expr:
        """A wall-clock expression (e.g. an aggregate of ``wall``) as the result's type.

        Calendar dates come back as ``Date``; times as aware datetimes in ``tz``, as
        :meth:`Table.result` hands them back.
        """
        if self.tz is None:
            return expr.cast(nw.Date)
        return expr.dt.replace_time_zone(self.tz)


@attrs.frozen
class LazyTable:
    """A validated view of the caller's lazy frame: columns and types, no data read.

    Build it with :func:`read_lazy`. The frame is a narwhals ``LazyFrame``; build expressions
    on it and hand the result back with :meth:`result`, which returns the engine's own lazy
    frame (a dask DataFrame for dask, a relation for duckdb, ...).

    Examples
    --------
    >>> import polars as pl
    >>> t = read_lazy(pl.LazyFrame({"customer_id": ["a"], "amount": [1.5]}))
    >>> t.columns
    ('customer_id', 'amount')
    """

    frame: nw.LazyFrame[Any]
    schema: Mapping[str, Any]
    name: str = "table"

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names, in order."""
        return tuple(self.schema)

    @boundary
    def require(self, *names: str) -> None:
        """Raise a :class:`DataError` listing every required column that is missing.

        Examples
        --------
        >>> import polars as pl
        >>> read_lazy(pl.LazyFrame({"x": [1]})).require("x")
        """
        missing = [n for n in names if n not in self.schema]
        if missing:
            raise DataError(
                f"{self.name} is missing required column(s) {missing}; "
                f"it has {list(self.schema)}. Name the right columns with the function's "
                "column arguments (e.g. customer='id').",
                field=missing[0],
            )

    @boundary
    def numeric(self, column: str) -> nw.Expr:
        """A numeric column as a ``Float64`` expression; other types are rejected by name.

        Examples
        --------
        >>> import polars as pl
        >>> t = read_lazy(pl.LazyFrame({"x": [1, 2]}))
        >>> t.frame.select(t.numeric("x").sum()).collect().item()
        3.0
        """
        self.require(column)
        dtype = self.schema[column]
        if not dtype.is_numeric():
            raise DataError(
                f"column {column!r} of the lazy {self.name} has type {dtype}, not a number; "
                "cast it to a numeric type on the engine first",
                field=column,
            )
        return nw.col(column).cast(nw.Float64)

    @boundary
    def timestamps(self, column: str, *, tz: str | None = None) -> LazyTimestamps:
        """A ``Datetime`` or ``Date`` column as wall-clock expressions (as :class:`Timestamps`).

        Naive datetimes need ``tz``; aware ones keep their timezone unless ``tz`` converts them.
        Strings are not parsed on the engine: cast them to timestamps first.

        Examples
        --------
        >>> import datetime as dt, polars as pl
        >>> t = read_lazy(pl.LazyFrame({"d": [dt.date(1970, 1, 3)]}))
        >>> ts = t.timestamps("d")
        >>> ts.tz, t.frame.select(ts.micros()).collect().item()
        (None, 172800000000)
        """
        self.require(column)
        dtype = self.schema[column]
        col = nw.col(column)
        if dtype == nw.Date:
            return LazyTimestamps(col, None, is_date=True)
        if dtype != nw.Datetime:
            raise DataError(
                f"column {column!r} of the lazy {self.name} has type {dtype}; a lazy frame needs "
                "a Date or Datetime column (parse strings to timestamps on the engine first)",
                field=column,
            )
        col_tz = cast("nw.Datetime", dtype).time_zone
        if col_tz is None:
            if tz is None:
                raise _naive(column, "naive timestamps")
            timezone(tz)
            return LazyTimestamps(col, tz, is_date=False)
        if tz is not None and tz != col_tz:
            timezone(tz)
            col = col.dt.convert_time_zone(tz)
            col_tz = tz
        return LazyTimestamps(col.dt.replace_time_zone(None), col_tz, is_date=False)

    @boundary
    def check(
        self,
        *,
        ids: Sequence[str] = (),
        times: Sequence[str] = (),
        numbers: Sequence[str] = (),
        counts: Mapping[str, nw.Expr] | None = None,
    ) -> dict[str, int]:
        """Check the data with one aggregate query on the engine; return the extra ``counts``.

        Nulls in ``ids`` / ``times`` / ``numbers`` and non-finite ``numbers`` raise a
        :class:`DataError` naming the column, how many rows and (when the engine can show them)
        a few of those rows; an empty frame raises too. ``counts`` maps names to boolean
        expressions whose ``True`` rows are counted and returned (with ``"rows"``, the total).

        Examples
        --------
        >>> import polars as pl
        >>> t = read_lazy(pl.LazyFrame({"c": ["a", "b"], "x": [1.0, -2.0]}))
        >>> t.check(ids=["c"], numbers=["x"], counts={"negative": nw.col("x") < 0})
        {'rows': 2, 'negative': 1}
        """
        problems: dict[str, tuple[nw.Expr, str, str, str]] = {}
        for kind, cols in (("id", ids), ("timestamp", times), ("value", numbers)):
            for c in cols:
                problems[f"null {c}"] = (
                    nw.col(c).is_null(),
                    c,
                    f"null {kind}(s)",
                    "fill or drop them first" if kind == "value" else f"every row needs a {kind}",
                )
        for c in numbers:
            problems[f"nonfinite {c}"] = (
                ~self.numeric(c).is_finite(),
                c,
                "non-finite value(s)",
                "use finite numbers",
            )
        extra = dict(counts or {})
        exprs = [nw.len().alias("rows")]
        exprs += [m.cast(nw.Int64).sum().alias(k) for k, (m, *_) in problems.items()]
        exprs += [m.cast(nw.Int64).sum().alias(k) for k, m in extra.items()]
        row = self.frame.select(*exprs).collect().rows(named=True)[0]
        found = {k: int(v or 0) for k, v in row.items()}
        if found["rows"] == 0:
            raise DataError(f"{self.name} is empty: it needs at least one row")
        for key, (mask, column, what, accepted) in problems.items():
            if found[key]:
                raise DataError(
                    f"column {column!r} of the lazy {self.name} has {found[key]} {what}"
                    f"{self.sample(mask)}; {accepted}",
                    field=column,
                )
        return {"rows": found["rows"], **{k: found[k] for k in extra}}

    @boundary
    def sample(self, mask: nw.Expr, n: int = 5) -> str:
        """A few rows where ``mask`` holds, as text for an error message ('' if none show)."""
        try:
            rows = self.frame.filter(mask).head(n).collect().rows(named=True)
        except Exception:  # pragma: no cover - only decorates an error message
            return ""
        return f", e.g. {[{k: _plain(v) for k, v in r.items()} for r in rows]}" if rows else ""

    @boundary
    def result(self, frame: nw.LazyFrame[Any]) -> Any:
        """Hand a lazy result back as the engine's own lazy frame (nothing is computed)."""
        return frame.to_native()


@boundary
def read_lazy(data: Any, *, name: str = "table") -> LazyTable:
    """Open the caller's lazy frame for building expressions on its engine.

    Parameters
    ----------
    data:
        A lazy frame narwhals understands: a dask DataFrame, a duckdb relation, a polars
        ``LazyFrame``, a PySpark DataFrame, ...
    name:
        How error messages call this table.

    Examples
    --------
    >>> import polars as pl
    >>> read_lazy(pl.LazyFrame({"x": [1.0]}), name="summary").schema
    {'x': Float64}
    """
    if not is_lazy(data):
        raise DataError(
            f"{name} must be a lazy frame (dask, duckdb, polars LazyFrame, ...); got "
            f"{type(data).__module__}.{type(data).__name__}"
        )
    frame = data if isinstance(data, nw.LazyFrame) else nw.from_native(data)
    schema = dict(frame.collect_schema())
    return LazyTable(frame, schema, name)
