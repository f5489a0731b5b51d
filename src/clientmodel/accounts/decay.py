"""Relationship decay: a tie weakens with time since the last interaction.

With half-life $h$ and $\\Delta t$ the time from the last interaction to ``as_of``,

$$ s(\\Delta t) = s_0 \\, 2^{-\\Delta t / h} = s_0 \\, e^{-\\lambda \\Delta t}, \\quad
   \\lambda = \\ln 2 / h, $$

the exponential forgetting curve (Ebbinghaus 1885) as used for tie strength that decays without
contact (Burt 2000, "Decay functions", *Social Networks* 22(1)). A tie with no recorded
interaction keeps its stated strength; an interaction after ``as_of`` has not happened yet from
``as_of``'s point of view and is treated as ``\\Delta t = 0`` (no decay, no growth).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from clientmodel._validation import boundary, check_finite_column, check_number
from clientmodel.accounts._common import check_as_of, check_graph
from clientmodel.accounts.graph import (
    ATTR_LAST_INTERACTION,
    ATTR_STRENGTH,
    EDGE_KIND,
    PERSON_EDGES,
)
from clientmodel.errors import ArgumentError, DataError, describe_rows

__all__ = ["ATTR_BASE_STRENGTH", "decay_graph", "decayed_strength", "decayed_strengths"]

#: Edge attribute keeping the undecayed strength on a graph from :func:`decay_graph`.
ATTR_BASE_STRENGTH = "base_strength"


def _half_life_days(half_life: Any) -> float:
    if not isinstance(half_life, dt.timedelta) or half_life <= dt.timedelta(0):
        raise ArgumentError(
            f"half_life={half_life!r} must be a positive datetime.timedelta "
            "(e.g. timedelta(days=90))",
            field="half_life",
        )
    return half_life / dt.timedelta(days=1)


@boundary
def decayed_strength(
    strength: float,
    last_interaction: dt.datetime | None,
    *,
    as_of: dt.datetime,
    half_life: dt.timedelta,
) -> float:
    """Strength of one tie at ``as_of`` after exponential decay with ``half_life``.

    Examples
    --------
    >>> from datetime import datetime, timedelta, timezone
    >>> t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    >>> decayed_strength(0.8, t0, as_of=t0 + timedelta(days=60), half_life=timedelta(days=30))
    0.2
    """
    as_of = check_as_of(as_of)
    h = _half_life_days(half_life)
    strength = check_number(strength, "strength", minimum=0, maximum=1)
    if last_interaction is None:
        return float(strength)
    check_as_of(last_interaction, "last_interaction")
    days = max((as_of - last_interaction) / dt.timedelta(days=1), 0.0)
    return float(strength * 2.0 ** (-days / h))


@boundary
def decayed_strengths(
    strengths: ArrayLike,
    days_since: ArrayLike,
    *,
    half_life: dt.timedelta,
) -> NDArray[np.float64]:
    """Vectorised decay: ``strengths * 2 ** (-days_since / half_life_days)``.

    ``days_since`` may hold NaN for ties with no recorded interaction (they keep their strength);
    a negative value (an interaction after ``as_of``) is a :class:`~clientmodel.errors.DataError`
    naming its rows, as are strengths outside ``[0, 1]``.

    Examples
    --------
    >>> from datetime import timedelta
    >>> decayed_strengths([1.0, 0.5, 0.5], [30.0, 0.0, float("nan")], half_life=timedelta(days=30))
    array([0.5, 0.5, 0.5])
    """
    h = _half_life_days(half_life)
    s = check_finite_column(np.asarray(strengths), "strengths", accepted="numbers in [0, 1]")
    try:
        d = np.asarray(days_since, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentError(
            "days_since must hold numbers of days (NaN for no interaction)", field="days_since"
        ) from None
    if s.shape != d.shape:
        raise ArgumentError(
            f"strengths {s.shape} and days_since {d.shape} must have the same shape",
            field="days_since",
        )
    bad = ~((s >= 0.0) & (s <= 1.0))
    if bad.any():
        rows = np.flatnonzero(bad)
        raise DataError(
            f"strengths must be in [0, 1]; {describe_rows(rows, s[rows].tolist())}",
            field="strengths",
            rows=rows.tolist(),
        )
    early = np.flatnonzero(d < 0)
    if early.size:
        raise DataError(
            "days_since must be >= 0 (an interaction after as_of is in the future): "
            f"{describe_rows(early, d[early].tolist())}",
            field="days_since",
            rows=early.tolist(),
        )
    d = np.where(np.isnan(d), 0.0, d)
    return s * np.exp2(-d / h)


@boundary
def decay_graph(graph: Any, *, as_of: dt.datetime, half_life: dt.timedelta) -> Any:
    """A copy of the graph whose person-to-person strengths are decayed to ``as_of``.

    Each decayed edge keeps its stated strength in :data:`ATTR_BASE_STRENGTH`. Every other
    function of :mod:`clientmodel.accounts` then reads the decayed strengths.

    Examples
    --------
    >>> from datetime import timedelta
    >>> from clientmodel.datasets.accounts import make_accounts
    >>> data = make_accounts(n_accounts=2, seed=0)
    >>> g = decay_graph(data.graph(), as_of=data.as_of, half_life=timedelta(days=90))
    >>> edges = [d for *_, d in g.edges(data=True) if "base_strength" in d]
    >>> all(d["strength"] <= d["base_strength"] for d in edges)
    True
    """
    as_of = check_as_of(as_of)
    _half_life_days(half_life)
    out = check_graph(graph).copy()
    for _, _, data in out.edges(data=True):
        if data.get(EDGE_KIND) not in PERSON_EDGES:
            continue
        base = float(data.get(ATTR_BASE_STRENGTH, data[ATTR_STRENGTH]))
        data[ATTR_BASE_STRENGTH] = base
        data[ATTR_STRENGTH] = decayed_strength(
            base, data.get(ATTR_LAST_INTERACTION), as_of=as_of, half_life=half_life
        )
    return out
