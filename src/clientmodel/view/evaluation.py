r"""The loop back: action outcomes as events, holdout groups, and how well each play works.

* :func:`outcome_event` turns an action's outcome (``sent``, ``opened``, ``replied``,
  ``purchased``) into a :class:`clientmodel.profile.Event` of type ``action_<outcome>``, which folds
  into the profile like any other event (counters, last seen, intent, attribution: the play id is
  the event's campaign).
* :class:`Holdout` splits people deterministically: a person is held out when the first 8 bytes
  of ``SHA-256(seed:person_id)``, read as a fraction of :math:`2^{64}`, fall below ``share``. The
  same seed always gives the same groups, on any machine and in any order, and changing the seed
  draws new, independent groups. Held-out people get no action (see
  :func:`~clientmodel.view.day_plan`), so a play's uplift can be measured.
* :func:`play_evaluation` gives, per play and segment, the response rate of the contacted group
  and the conversion rate of both groups with Wilson score intervals (Wilson 1927),

  .. math:: \frac{\hat p + \frac{z^2}{2n} \pm z \sqrt{\frac{\hat p(1-\hat p)}{n} +
            \frac{z^2}{4n^2}}}{1 + \frac{z^2}{n}},

  and the uplift (conversion contacted minus conversion held out) with Newcombe's hybrid score
  interval (Newcombe 1998, method 10): for :math:`d = \hat p_1 - \hat p_2` with Wilson intervals
  :math:`(l_i, u_i)`, :math:`\bigl(d - \sqrt{(\hat p_1 - l_1)^2 + (u_2 - \hat p_2)^2},\;
  d + \sqrt{(u_1 - \hat p_1)^2 + (\hat p_2 - l_2)^2}\bigr)`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from decimal import Decimal
from typing import Any, Literal

import narwhals.stable.v2 as nw
import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field
from scipy.special import ndtri

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, DataError
from clientmodel.profile import Event
from clientmodel.view._common import aware, probability
from clientmodel.view.actions import Action

__all__ = [
    "OUTCOMES",
    "Holdout",
    "newcombe_interval",
    "outcome_event",
    "play_evaluation",
    "wilson_interval",
]

#: The outcomes of an action, in funnel order.
OUTCOMES: tuple[str, ...] = ("sent", "opened", "replied", "purchased")
Outcome = Literal["sent", "opened", "replied", "purchased"]


class Holdout(BaseModel):
    """A deterministic holdout group: ``share`` of people, chosen by a hash of id and seed.

    Examples
    --------
    >>> h = Holdout(seed=7, share=0.5)
    >>> h.holds("c00001") == Holdout(seed=7, share=0.5).holds("c00001")
    True
    >>> 400 < sum(h.holds(f"c{i}") for i in range(1000)) < 600  # about half
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int
    share: float = Field(default=0.1, ge=0.0, le=1.0)

    @boundary
    def fraction(self, person_id: str) -> float:
        """The person's hash as a number in [0, 1).

        Examples
        --------
        >>> 0 <= Holdout(seed=1).fraction("p1") < 1
        True
        """
        digest = hashlib.sha256(f"{self.seed}:{person_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2.0**64

    @boundary
    def holds(self, person_id: str) -> bool:
        """Whether the person is held out (gets no action).

        Examples
        --------
        >>> Holdout(seed=1, share=0.0).holds("p1"), Holdout(seed=1, share=1.0).holds("p1")
        (False, True)
        """
        return self.fraction(person_id) < self.share


@boundary
def outcome_event(
    action: Action,
    outcome: Outcome,
    *,
    at: dt.datetime,
    value: float | Decimal | None = None,
) -> Event:
    """The event recording an action's outcome, ready to fold into the person's profile.

    The event id is derived from the person, play, outcome and time, so recording the same
    outcome twice is harmless (folding deduplicates by id).

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 6, 3, 10, tzinfo=dt.timezone.utc)
    >>> a = Action(person_id="p1", play_id="win_back", action="win_back", owner="s1",
    ...            channel="sms", send_at=t, value=1.5, p_response=0.05, value_at_stake=30.0,
    ...            value_from="clv", touch=True, reasons=(), numbers=())
    >>> e = outcome_event(a, "replied", at=t + dt.timedelta(hours=2))
    >>> e.type, e.campaign, e.channel, e.properties["action"]
    ('action_replied', 'win_back', 'sms', 'win_back')
    """
    if outcome not in OUTCOMES:
        raise ArgumentError(
            f"outcome={outcome!r} is not accepted; use one of {list(OUTCOMES)}", field="outcome"
        )
    at = aware(at, "at")
    stamp = at.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    return Event(
        event_id=f"{action.play_id}:{action.person_id}:{outcome}:{stamp}",
        type=f"action_{outcome}",
        channel=action.channel,
        timestamp=at,
        profile_id=action.person_id,
        campaign=action.play_id,
        staff_id=action.owner,
        value=None if value is None else Decimal(str(value)),
        properties={"action": action.action},
    )


def _z(confidence: float) -> float:
    level = probability(confidence, "confidence")
    if not 0.0 < level < 1.0:
        raise ArgumentError(
            f"confidence={confidence!r} must lie strictly between 0 and 1", field="confidence"
        )
    return float(ndtri(0.5 + level / 2.0))


@boundary
def wilson_interval(
    successes: int, n: int, *, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Wilson score interval of a proportion (``None`` when ``n = 0``).

    Examples
    --------
    >>> lo, hi = wilson_interval(3, 10)
    >>> round(lo, 4), round(hi, 4)
    (0.1078, 0.6032)
    """
    if not (0 <= successes <= n):
        raise ArgumentError(
            f"successes={successes} and n={n} must satisfy 0 <= successes <= n", field="n"
        )
    if n == 0:
        return None
    z = _z(confidence)
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@boundary
def newcombe_interval(
    x1: int, n1: int, x2: int, n2: int, *, confidence: float = 0.95
) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval of ``x1/n1 - x2/n2`` (``None`` when a group is empty).

    Examples
    --------
    >>> lo, hi = newcombe_interval(56, 70, 48, 80)  # Newcombe (1998), example (a)
    >>> round(lo, 4), round(hi, 4)
    (0.0524, 0.3339)
    """
    a = wilson_interval(x1, n1, confidence=confidence)
    b = wilson_interval(x2, n2, confidence=confidence)
    if a is None or b is None:
        return None
    p1, p2 = x1 / n1, x2 / n2
    d = p1 - p2
    lower = d - math.sqrt((p1 - a[0]) ** 2 + (b[1] - p2) ** 2)
    upper = d + math.sqrt((a[1] - p1) ** 2 + (p2 - b[0]) ** 2)
    return lower, upper


def _bools(frame: nw.DataFrame[Any], column: str) -> NDArray[np.bool_]:
    if column not in frame.columns:
        raise DataError(f"outcomes has no column {column!r}; columns: {frame.columns}")
    values = frame[column].to_list()
    bad = [i for i, v in enumerate(values) if not isinstance(v, (bool, np.bool_))]
    if bad:
        raise DataError(
            f"outcomes column {column!r} holds {values[bad[0]]!r} at row {bad[0]}; accepted: "
            "true/false (no nulls)",
            field=column,
            rows=bad,
        )
    return np.asarray(values, dtype=bool)


@boundary
def play_evaluation(
    outcomes: Any,
    *,
    holdout: Holdout,
    segment: str | None = "segment",
    confidence: float = 0.95,
) -> Any:
    """Response and conversion per play and segment, contacted vs held out, with intervals.

    Parameters
    ----------
    outcomes:
        One row per person the play applied to: ``person_id``, ``play_id``, the ``segment``
        column (optional), ``responded`` (true/false; false for the held out, who got nothing)
        and ``converted`` (true/false: they bought in the measurement window). A pandas, polars
        or pyarrow table.
    holdout:
        The holdout used when planning; it decides each row's group again from the person id.
    segment:
        The segment column, or ``None`` for one row per play.
    confidence:
        Level of the intervals.

    Returns
    -------
    A table of the same kind, one row per (play, segment), sorted: ``n_contacted``,
    ``n_held_out``, ``response_rate`` (with ``response_low``/``response_high``),
    ``conversion_contacted`` and ``conversion_held_out`` (each with ``_low``/``_high``),
    ``uplift`` (with ``uplift_low``/``uplift_high``); nulls where a group is empty.

    Examples
    --------
    >>> import pandas as pd
    >>> h = Holdout(seed=3, share=0.5)
    >>> ids = [f"c{i}" for i in range(8)]
    >>> [h.holds(i) for i in ids]
    [False, False, False, True, True, True, False, False]
    >>> out = play_evaluation(pd.DataFrame({
    ...     "person_id": ids, "play_id": "win_back", "segment": "at_risk",
    ...     "responded": [False, True, True, False, False, False, False, False],
    ...     "converted": [True, True, False, False, True, False, False, False]}), holdout=h)
    >>> row = out.iloc[0]
    >>> int(row.n_contacted), int(row.n_held_out), float(row.response_rate)
    (5, 3, 0.4)
    >>> round(float(row.uplift), 4)  # 2/5 converted against 1/3
    0.0667
    """
    frame = nw.from_native(outcomes, eager_only=True, pass_through=True)
    if not isinstance(frame, nw.DataFrame):
        raise ArgumentError(
            f"outcomes must be an eager table (pandas, polars, pyarrow), got "
            f"{type(outcomes).__name__}",
            field="outcomes",
        )
    for column in ("person_id", "play_id", *([segment] if segment else [])):
        if column not in frame.columns:
            raise DataError(
                f"outcomes has no column {column!r}; columns: {frame.columns}", field=column
            )
    _z(confidence)
    ids = [str(v) for v in frame["person_id"].to_list()]
    held = np.asarray([holdout.holds(i) for i in ids], dtype=bool)
    responded = _bools(frame, "responded")
    converted = _bools(frame, "converted")
    plays = [str(v) for v in frame["play_id"].to_list()]
    segs = [str(v) for v in frame[segment].to_list()] if segment else [""] * len(ids)
    groups: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(zip(plays, segs, strict=True)):
        groups.setdefault(key, []).append(i)
    rows: dict[str, list[Any]] = {"play_id": [], **({segment: []} if segment else {})}
    names = (
        "n_contacted",
        "n_held_out",
        "response_rate",
        "response_low",
        "response_high",
        "conversion_contacted",
        "conversion_contacted_low",
        "conversion_contacted_high",
        "conversion_held_out",
        "conversion_held_out_low",
        "conversion_held_out_high",
        "uplift",
        "uplift_low",
        "uplift_high",
    )
    for name in names:
        rows[name] = []
    for (play, seg), index in sorted(groups.items()):
        at = np.asarray(index)
        h = held[at]
        n1, n2 = int((~h).sum()), int(h.sum())
        r1 = int(responded[at][~h].sum())
        c1, c2 = int(converted[at][~h].sum()), int(converted[at][h].sum())
        rows["play_id"].append(play)
        if segment:
            rows[segment].append(seg)
        resp = wilson_interval(r1, n1, confidence=confidence)
        conv1 = wilson_interval(c1, n1, confidence=confidence)
        conv2 = wilson_interval(c2, n2, confidence=confidence)
        lift = newcombe_interval(c1, n1, c2, n2, confidence=confidence)
        values = (
            n1,
            n2,
            r1 / n1 if n1 else None,
            *(resp or (None, None)),
            c1 / n1 if n1 else None,
            *(conv1 or (None, None)),
            c2 / n2 if n2 else None,
            *(conv2 or (None, None)),
            c1 / n1 - c2 / n2 if n1 and n2 else None,
            *(lift or (None, None)),
        )
        for name, value in zip(names, values, strict=True):
            rows[name].append(value)
    schema: dict[str, Any] = {"play_id": nw.String()}
    if segment:
        schema[segment] = nw.String()
    schema |= {n: nw.Int64() if n.startswith("n_") else nw.Float64() for n in names}
    return nw.from_dict(rows, schema=schema, backend=frame.implementation).to_native()
