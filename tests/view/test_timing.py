"""The right moment: model window against closed forms and an independent simulation, cadence
flags and engagement hours by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from clientmodel.errors import ClientModelError
from clientmodel.ltv import BGNBD, ParetoNBD
from clientmodel.profile import Event
from clientmodel.view import engagement_hours, purchase_timing, timing_table, window_quantiles


def test_poisson_buyer_median_is_ln2_over_rate() -> None:
    # Gamma(r, alpha) with r = 1e5 is a point mass at lambda = r / alpha; a ~ 0 means nobody
    # drops out: a Poisson buyer of rate 0.5 per week, whose median wait is ln 2 / 0.5 weeks.
    lam = 0.5
    model = BGNBD(r=1e5, alpha=1e5 / lam, a=1e-9, b=1.0)
    t = window_quantiles(model, {"frequency": 0, "recency": 0, "T": 0})
    assert t[0, 1] == pytest.approx(math.log(2) / lam, rel=2e-3)
    # quartiles of the exponential: -ln(1 - q) / lambda
    assert t[0, 0] == pytest.approx(-math.log(0.75) / lam, rel=2e-3)
    assert t[0, 2] == pytest.approx(math.log(4) / lam, rel=2e-3)


def test_bgnbd_window_matches_its_closed_form() -> None:
    # Given alive at T, the first purchase after T waits Exp(lambda), lambda ~ Gamma(r + x,
    # alpha + T): t_q = (alpha + T) ((1 - q)^(-1 / (r + x)) - 1)  (derivation in the docs page).
    m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    summary = pd.DataFrame({"frequency": [2, 0, 7], "recency": [30.43, 0, 35.0], "T": [38.86] * 3})
    got = window_quantiles(m, summary)
    for i, row in summary.iterrows():
        r, a = m.r + row["frequency"], m.alpha + row["T"]
        for k, q in enumerate((0.25, 0.5, 0.75)):
            want = a * ((1 - q) ** (-1 / r) - 1)
            if want <= 1e4:
                assert got[i, k] == pytest.approx(want, rel=2e-3)
            else:  # beyond the default horizon: not expected within it
                assert np.isnan(got[i, k])


def test_pareto_nbd_new_customer_against_a_simulation() -> None:
    # Independent simulation: lambda ~ Gamma(r, alpha), mu ~ Gamma(s, beta); the first purchase
    # comes after Exp(lambda) and counts only before the death time Exp(mu).
    r, alpha, s, beta = 2.0, 8.0, 1.0, 8.0
    rng = np.random.default_rng(7)
    n = 400_000
    lam = rng.gamma(r, 1 / alpha, n)
    mu = rng.gamma(s, 1 / beta, n)
    first = rng.exponential(1 / lam)
    death = rng.exponential(1 / mu)
    bought = np.where(first < death, first, np.inf)
    want = [float(np.quantile(bought, q)) for q in (0.25, 0.5)]
    got = window_quantiles(
        ParetoNBD(r=r, alpha=alpha, s=s, beta=beta),
        {"frequency": 0, "recency": 0, "T": 0},
        max_horizon=1000.0,
    )[0]
    assert got[0] == pytest.approx(want[0], rel=0.02)
    assert got[1] == pytest.approx(want[1], rel=0.02)
    # E[lambda / (lambda + mu)] = 2/3 buy before dying, so 3/4 is never reached
    assert np.mean(np.isinf(bought)) == pytest.approx(1 / 3, abs=0.01)
    assert np.isnan(got[2])


def test_purchase_timing_record_uses_the_model_and_the_cadence() -> None:
    m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    t = purchase_timing({"frequency": 4, "recency": 40, "T": 60}, model=m)
    # gap 40 / 4 = 10, 20 since the last purchase: due and overdue (20 >= 1.5 * 10)
    assert (t.cadence_gap, t.due_in, t.due, t.overdue) == (10.0, -10.0, True, True)
    assert t.median == pytest.approx((4.414 + 60) * (2 ** (1 / 4.243) - 1), rel=2e-3)
    assert t.q25 is not None
    assert t.q75 is not None
    assert t.q25 < t.median < t.q75
    none = purchase_timing({"frequency": 0, "recency": 0, "T": 3})
    assert (none.cadence_gap, none.due, none.overdue, none.median) == (None, None, None, None)


def test_engagement_hours_in_the_customers_time_zone() -> None:
    utc = dt.timezone.utc
    # Sunday 2024-06-02 23:30 UTC is Monday 07:30 in Shanghai (hour of week 7)
    events = [
        Event(
            event_id=f"e{i}",
            type="view",
            channel="app",
            timestamp=dt.datetime(2024, 6, 2, 23, 30, tzinfo=utc),
        )
        for i in range(3)
    ] + [
        Event(
            event_id="x",
            type="view",
            channel="app",
            timestamp=dt.datetime(2024, 6, 5, 12, tzinfo=utc),
        )
    ]
    assert engagement_hours(events, tz="Asia/Shanghai") == (7, 2 * 24 + 20)
    assert engagement_hours(events, tz="UTC") == (6 * 24 + 23, 2 * 24 + 12)


def test_timing_errors_are_library_errors() -> None:
    with pytest.raises(ClientModelError, match="tz"):
        engagement_hours([], tz="Mars/Olympus")
    with pytest.raises(ClientModelError, match="timestamp"):
        engagement_hours([dt.datetime(2024, 1, 1)])
    with pytest.raises(ClientModelError, match="recency"):
        purchase_timing({"frequency": 1, "recency": 9, "T": 3})
    with pytest.raises(ClientModelError, match="quantiles"):
        window_quantiles(
            BGNBD(r=1, alpha=1, a=1, b=1), {"frequency": 0, "recency": 0, "T": 1}, [1.0]
        )


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_timing_table_equals_the_record_face(kind: str) -> None:
    m = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    rows = {
        "person_id": ["a", "b", "c", "d"],
        "frequency": [4.0, 0.0, 2.0, 1.0],
        "recency": [40.0, 0.0, 30.0, 5.0],
        "T": [60.0, 5.0, 35.0, 30.0],
    }
    frame = pd.DataFrame(rows)
    if kind == "polars":
        import polars as pl

        frame = pl.from_pandas(frame)
    out = timing_table(frame, model=m, typical_gap=4.0)
    assert type(out) is type(frame)
    got = out.to_dicts() if kind == "polars" else out.astype(object).to_dict("records")
    for i, row in enumerate(got):
        one = {k: rows[k][i] for k in ("frequency", "recency", "T")}
        rec = purchase_timing(one, model=m, typical_gap=4.0)
        assert (row["due"], row["overdue"]) == (rec.due, rec.overdue)
        assert row["cadence_gap"] == rec.cadence_gap
        assert row["next_purchase_median"] == pytest.approx(rec.median)
        assert row["q25"] == pytest.approx(rec.q25)
