r"""Win rates, cycle lengths and sales velocity, overall or by any deal attribute.

*Win rate* is ``won / (won + lost)`` over deals closed in the window; *cycle length* is the days
from creation to a won close. *Sales velocity* (the pipeline-velocity identity popularised in
sales operations, e.g. Salesforce's "sales velocity equation") is revenue per day:

.. math:: v = \frac{n_\text{open} \times \bar a_\text{won} \times w}{\bar c},

with :math:`n_\text{open}` the open opportunities at ``as_of``, :math:`\bar a_\text{won}` the mean
won deal size, :math:`w` the win rate and :math:`\bar c` the mean cycle length in days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import boundary, check_number, check_text
from clientmodel.funnel._check import aware, deal_list
from clientmodel.funnel.models import Deal

__all__ = ["Velocity", "sales_velocity", "win_rates"]


def _closed_in(deals: Sequence[Deal], as_of: dt.datetime, window_days: float | None) -> list[Deal]:
    aware(as_of, "as_of")
    deals = deal_list(deals)
    if window_days is not None:
        # at most 10,000 years: a longer window is every deal, and beyond it timedelta overflows
        window_days = check_number(
            window_days, "window_days", minimum=0, exclusive_minimum=True, maximum=3_652_425
        )
    start = None if window_days is None else as_of - dt.timedelta(days=window_days)
    out = []
    for d in deals:
        closed_at = d.closed_at
        if closed_at is None or closed_at > as_of:
            continue
        if start is None or closed_at > start:
            out.append(d)
    return out


def _days(d: Deal) -> float:
    closed_at = d.closed_at
    assert closed_at is not None
    return (closed_at - d.created_at).total_seconds() / 86_400


@boundary
def win_rates(
    deals: Sequence[Deal],
    *,
    as_of: dt.datetime,
    by: str = "owner",
    window_days: float | None = None,
) -> dict[str, NDArray[Any]]:
    """Win rate and cycle length of deals closed by ``as_of`` (within ``window_days``), by group.

    ``by`` is any deal attribute or ``fields`` key (``owner``, ``source``, ``segment`` ...).
    Returns a dict of numpy columns: ``<by>``, ``closed``, ``won``, ``win_rate``,
    ``mean_cycle_days`` and ``median_cycle_days`` (of won deals; NaN when none won).

    Examples
    --------
    >>> from clientmodel.datasets.deals import make_deals
    >>> data = make_deals(300, seed=1)
    >>> out = win_rates(data.deals, as_of=data.as_of, by="source")
    >>> int(out["closed"].sum()) == sum(d.is_closed for d in data.deals)
    True
    """
    groups: dict[str, list[Deal]] = {}
    check_text(by, "by")
    for d in _closed_in(deals, as_of, window_days):
        value = d.field(by)
        groups.setdefault("missing" if value is None else str(value), []).append(d)
    keys = sorted(groups)
    closed = np.array([len(groups[k]) for k in keys], dtype=np.int64)
    won_lists = [[_days(d) for d in groups[k] if d.closed == "won"] for k in keys]
    won = np.array([len(w) for w in won_lists], dtype=np.int64)
    mean = np.array([float(np.mean(w)) if w else np.nan for w in won_lists])
    median = np.array([float(np.median(w)) if w else np.nan for w in won_lists])
    return {
        by: np.asarray(keys, dtype=object),
        "closed": closed,
        "won": won,
        "win_rate": won / np.maximum(closed, 1),
        "mean_cycle_days": mean,
        "median_cycle_days": median,
    }


@attrs.frozen
class Velocity:
    """The sales-velocity inputs and result (revenue per day).

    Examples
    --------
    >>> Velocity(10, 5000.0, 0.25, 50.0).per_day
    250.0
    """

    open_deals: int
    mean_won_amount: float
    win_rate: float
    mean_cycle_days: float

    @property
    def per_day(self) -> float:
        """Expected revenue per day: open x mean won amount x win rate / cycle days."""
        if self.mean_cycle_days <= 0:
            return float("nan")
        return self.open_deals * self.mean_won_amount * self.win_rate / self.mean_cycle_days

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields plus ``per_day``."""
        return {**attrs.asdict(self), "per_day": self.per_day}


@boundary
def sales_velocity(
    deals: Sequence[Deal], *, as_of: dt.datetime, window_days: float | None = 365.0
) -> Velocity:
    """Sales velocity at ``as_of`` from deals closed in the last ``window_days``.

    Examples
    --------
    >>> from clientmodel.datasets.deals import make_deals
    >>> data = make_deals(300, seed=1)
    >>> v = sales_velocity(data.deals, as_of=data.as_of)
    >>> v.per_day > 0
    True
    """
    closed = _closed_in(deals, as_of, window_days)
    won = [d for d in closed if d.closed == "won"]
    n_open = sum(
        1 for d in deals if d.created_at <= as_of and (d.closed_at is None or d.closed_at > as_of)
    )
    return Velocity(
        open_deals=n_open,
        mean_won_amount=float(np.mean([float(d.amount) for d in won])) if won else 0.0,
        win_rate=len(won) / len(closed) if closed else 0.0,
        mean_cycle_days=float(np.mean([_days(d) for d in won])) if won else float("nan"),
    )
