"""The table face of next best actions: the best play for every row of a view table at once.

:func:`plan_table` evaluates each play's rule over the whole flat view table
(:func:`clientmodel.rules.evaluate_table`), checks consent the same way (``contactable has tag
"sms"``, natively on list columns), computes every play's value as a column, and picks per row
the most valuable play that is allowed -- exactly the first action
:func:`~clientmodel.view.next_actions` gives for that row's view (ties by play id; a property test
checks it). The touch cap comes from an optional column of touches already made in the period.
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Iterable
from typing import Any

import narwhals.stable.v2 as nw
import numpy as np
from numpy.typing import NDArray

from clientmodel import rules
from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.profile import StaffMember
from clientmodel.view._common import aware
from clientmodel.view.actions import ContactPressure, Play
from clientmodel.view.evaluation import Holdout
from clientmodel.view.plan import assign

__all__ = ["day_plan_table", "plan_table"]


def _numbers(frame: nw.DataFrame[Any], column: str) -> NDArray[np.float64]:
    if column not in frame.columns:
        return np.zeros(len(frame))
    series = frame[column]
    if series.dtype.is_numeric():
        values = series.fill_null(0.0).to_numpy().astype(np.float64)
    else:  # an untyped (all-null or object) column
        cells = series.to_list()
        wrong = [
            i
            for i, v in enumerate(cells)
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real))
        ]
        if wrong:
            raise DataError(
                f"column {column!r} of views must hold numbers "
                f"({describe_rows(wrong, [cells[i] for i in wrong])})",
                field=column,
                rows=wrong,
            )
        values = np.asarray([0.0 if v is None else float(v) for v in cells], dtype=np.float64)
    return np.nan_to_num(values, nan=0.0)


def _mask(rule: str, frame: nw.DataFrame[Any], as_of: dt.datetime) -> NDArray[np.bool_]:
    result = rules.evaluate_table(rule, frame.to_native(), as_of=as_of, key="person_id")
    series = nw.from_native(result, series_only=True)
    return np.asarray(series.fill_null(value=False).to_numpy(), dtype=bool)


def _contains(frame: nw.DataFrame[Any], column: str, item: str) -> NDArray[np.bool_]:
    """Rows whose list column holds ``item`` (a null list holds nothing).

    The same test as the rule ``column has tag "item"``, done natively where the backend has
    list columns (polars, pyarrow) and by a set lookup per row for pandas object columns.
    """
    if frame.implementation.is_pandas_like():
        values = frame[column].to_list()
        return np.fromiter(
            (isinstance(v, (list, tuple, np.ndarray)) and item in list(v) for v in values),
            dtype=bool,
            count=len(values),
        )
    found = frame.select(nw.col(column).list.contains(item).fill_null(value=False))[column]
    return np.asarray(found.to_numpy(), dtype=bool)


@boundary
def plan_table(
    views: Any,
    playbook: Iterable[Play],
    *,
    as_of: dt.datetime,
    pressure: ContactPressure | None = None,
    recent_touches: str | None = None,
) -> Any:
    """The best allowed play per person for a whole view table.

    Parameters
    ----------
    views:
        An eager table with the :data:`~clientmodel.view.FLAT_FIELDS` columns (from
        :func:`~clientmodel.view.view_table`), pandas, polars or pyarrow.
    playbook:
        The plays.
    as_of:
        Now (timezone-aware), for windowed rules.
    pressure:
        The caps; only ``max_touches`` applies here (quiet hours are a scheduling matter of the
        record face).
    recent_touches:
        A column with each person's touches in the period (0 when not given).

    Returns
    -------
    The same kind of table with ``person_id``, ``play_id``, ``action``, ``owner``, ``channel``,
    ``value`` and ``value_at_stake`` (nulls where no play is allowed).

    Examples
    --------
    >>> import datetime as dt
    >>> import pandas as pd
    >>> from clientmodel.view import DEFAULT_PLAYBOOK, view_table
    >>> people = pd.DataFrame({"person_id": ["a", "b"], "contactable": [["sms"], []]})
    >>> scores = pd.DataFrame({"person_id": ["a", "b"], "churn_risk": [0.9, 0.9],
    ...                        "clv": [200.0, 300.0]})
    >>> t = dt.datetime(2024, 6, 3, 10, tzinfo=dt.timezone.utc)
    >>> out = plan_table(view_table(people, scores=scores), DEFAULT_PLAYBOOK, as_of=t)
    >>> out[["person_id", "play_id", "channel", "value"]].values.tolist()
    [['a', 'win_back', 'sms', 10.0], ['b', nan, nan, nan]]
    """
    as_of = aware(as_of, "as_of")
    pressure = pressure or ContactPressure()
    frame = nw.from_native(views, eager_only=True, pass_through=True)
    if not isinstance(frame, nw.DataFrame):
        raise ArgumentError(
            f"views must be an eager table (pandas, polars, pyarrow), got {type(views).__name__}",
            field="views",
        )
    if "person_id" not in frame.columns:
        raise DataError(f"views has no column 'person_id'; its columns are {frame.columns}")
    plays = sorted(playbook, key=lambda p: p.play_id)
    ids = [p.play_id for p in plays]
    if len(set(ids)) != len(ids):
        raise ArgumentError("playbook repeats a play_id", field="playbook")
    n = len(frame)
    budget = pressure.max_touches - (
        _numbers(frame, recent_touches) if recent_touches is not None else np.zeros(n)
    )
    if recent_touches is not None and recent_touches not in frame.columns:
        raise DataError(f"views has no column {recent_touches!r}", field="recent_touches")
    has_contactable = "contactable" in frame.columns
    channel_ok: dict[str, NDArray[np.bool_]] = {}
    value = np.full((n, len(plays)), -np.inf)
    stake_of = np.zeros((n, len(plays)))
    channel_of = np.full((n, len(plays)), None, dtype=object)
    for k, play in enumerate(plays):
        applies = _mask(play.rule, frame, as_of)
        chosen = np.full(n, None, dtype=object)
        for c in reversed(play.channels):  # the first allowed channel wins
            if play.need_consent:
                if c not in channel_ok:
                    channel_ok[c] = (
                        _contains(frame, "contactable", c)
                        if has_contactable
                        else np.zeros(n, dtype=bool)
                    )
                ok = channel_ok[c]
            else:
                ok = np.ones(n, dtype=bool)
            chosen = np.where(ok, c, chosen)
        allowed = applies & (chosen != None)  # noqa: E711
        if play.touch:
            allowed &= budget > 0
        if play.value_from == "fixed":
            stake = np.full(n, float(play.value or 0.0))
        elif play.value_from == "expected_deal_value":
            stake = _numbers(frame, "open_deal_amount") * _numbers(frame, "best_win_probability")
        else:
            stake = _numbers(frame, play.value_from)
        stake = np.maximum(stake, 0.0)
        value[:, k] = np.where(allowed, play.p_response * stake, -np.inf)
        stake_of[:, k] = stake
        channel_of[:, k] = chosen
    pick = np.argmax(value, axis=1) if plays else np.zeros(n, dtype=np.int64)
    rows = np.arange(n)
    if not plays:  # nothing can apply: one column of nulls per output
        value, stake_of = np.full((n, 1), -np.inf), np.zeros((n, 1))
        channel_of = np.full((n, 1), None, dtype=object)
    found: NDArray[np.bool_] = np.isfinite(value[rows, pick])
    owners = np.asarray(
        frame["owner"].to_list() if "owner" in frame.columns else [None] * n, dtype=object
    )
    by_owner = np.asarray([p.owner == "owner" for p in plays] or [True])
    fixed = np.asarray([p.owner.removeprefix("staff:") for p in plays] or [""], dtype=object)

    def column(values: Any) -> list[Any]:
        data = np.asarray(values, dtype=object)
        kept: list[Any] = np.where(found, data, np.full(n, None, dtype=object)).tolist()
        return kept

    out: dict[str, list[Any]] = {
        "person_id": frame["person_id"].to_list(),
        "play_id": column(np.asarray(ids or [""], dtype=object)[pick]),
        "action": column(np.asarray([p.action for p in plays] or [""], dtype=object)[pick]),
        "owner": column(np.where(by_owner[pick], owners, fixed[pick])),
        "channel": column(channel_of[rows, pick]),
        "value": column(value[rows, pick]),
        "value_at_stake": column(stake_of[rows, pick]),
    }
    schema = {
        "person_id": nw.String(),
        "play_id": nw.String(),
        "action": nw.String(),
        "owner": nw.String(),
        "channel": nw.String(),
        "value": nw.Float64(),
        "value_at_stake": nw.Float64(),
    }
    return nw.from_dict(out, schema=schema, backend=frame.implementation).to_native()


@boundary
def day_plan_table(
    views: Any,
    playbook: Iterable[Play],
    *,
    as_of: dt.datetime,
    staff: Iterable[StaffMember],
    capacity: int = 20,
    pressure: ContactPressure | None = None,
    recent_touches: str | None = None,
    holdout: Holdout | None = None,
    min_value: float = 0.0,
) -> Any:
    """The day plan of a whole view table: each person's best play, handed out to staff.

    The table face of :func:`~clientmodel.view.day_plan` (one action per person): the best
    allowed play per row (:func:`plan_table`), people in the holdout and plays worth no more
    than ``min_value`` left out, then handed out with the same rule (owners keep their customers;
    people without one go to the previous owner's team, else to the least loaded; capacity per
    staff member, highest value first).

    Returns
    -------
    The same kind of table with one row per planned or deferred action: ``person_id``,
    ``play_id``, ``action``, ``channel``, ``value``, ``staff_id`` (null when deferred) and
    ``how`` (``owner``, ``same_team``, ``balance_load``, ``handover`` or ``deferred``), highest
    value first.

    Examples
    --------
    >>> import datetime as dt
    >>> import pandas as pd
    >>> from clientmodel.profile import StaffMember
    >>> from clientmodel.view import DEFAULT_PLAYBOOK, view_table
    >>> people = pd.DataFrame({"person_id": ["a", "b"], "owner": ["s1", None],
    ...                        "contactable": [["sms"], ["sms"]]})
    >>> scores = pd.DataFrame({"person_id": ["a", "b"], "churn_risk": [0.9, 0.9],
    ...                        "clv": [200.0, 300.0]})
    >>> t = dt.datetime(2024, 6, 3, 10, tzinfo=dt.timezone.utc)
    >>> staff = [StaffMember(staff_id="s1"), StaffMember(staff_id="s2")]
    >>> out = day_plan_table(view_table(people, scores=scores), DEFAULT_PLAYBOOK, as_of=t,
    ...                      staff=staff)
    >>> out[["person_id", "staff_id", "how"]].values.tolist()
    [['b', 's2', 'balance_load'], ['a', 's1', 'owner']]
    """
    best = nw.from_native(
        plan_table(
            views,
            playbook,
            as_of=as_of,
            pressure=pressure,
            recent_touches=recent_touches,
        ),
        eager_only=True,
    )
    frame = nw.from_native(views, eager_only=True)
    members = {s.staff_id: s for s in staff}
    if not any(m.active for m in members.values()):
        raise DataError("no active staff member to plan for", field="staff")
    previous = (
        frame["previous_owner"].to_list()
        if "previous_owner" in frame.columns
        else [None] * len(frame)
    )
    rows: list[tuple[float, str, str, str | None, str | None]] = []
    keep: list[int] = []
    values = best["value"].to_list()
    for i, (pid, play, owner, value) in enumerate(
        zip(
            best["person_id"].to_list(),
            best["play_id"].to_list(),
            best["owner"].to_list(),
            values,
            strict=True,
        )
    ):
        if play is None or value is None or value != value or not value > min_value:
            continue
        if holdout is not None and holdout.holds(str(pid)):
            continue
        keep.append(i)
        rows.append((float(value), str(pid), str(play), owner, previous[i]))
    placed = assign(rows, members, capacity)
    order = sorted(range(len(rows)), key=lambda k: (-rows[k][0], rows[k][1], rows[k][2]))
    picked = best.select("person_id", "play_id", "action", "channel", "value")
    out: dict[str, list[Any]] = {c: [] for c in picked.columns}
    out["staff_id"], out["how"] = [], []
    columns = {c: picked[c].to_list() for c in picked.columns}
    for k in order:
        i = keep[k]
        for c in picked.columns:
            out[c].append(columns[c][i])
        out["staff_id"].append(placed[k][0])
        out["how"].append(placed[k][1])
    schema = {
        "person_id": nw.String(),
        "play_id": nw.String(),
        "action": nw.String(),
        "channel": nw.String(),
        "value": nw.Float64(),
        "staff_id": nw.String(),
        "how": nw.String(),
    }
    return nw.from_dict(out, schema=schema, backend=frame.implementation).to_native()
