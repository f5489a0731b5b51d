"""BG/BB: golden values from Fader, Hardie & Shang (2010), brute-force enumeration and
quadrature, simulation, properties and robustness."""

from __future__ import annotations

import json
import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import special

from clientmodel.errors import ArgumentError, DataError
from clientmodel.ltv import BGBB as PublicBGBB
from clientmodel.ltv.bgbb import BGBB, _row_loglik
from clientmodel.ltv.clv import clv, discounted_purchases

DATA = Path(__file__).resolve().parents[1] / "data"
DONATIONS = pd.read_csv(DATA / "donations.csv")
COLS = {"n": "periods"}
# Fader, Hardie & Shang (2010), "Customer-Base Analysis in a Discrete-Time Noncontractual
# Setting", Marketing Science 29(6): BG/BB estimates for the 1995 cohort of 11,104 first-time
# donors, 6 annual opportunities (1996-2001): alpha = 1.204, beta = 0.750, gamma = 0.657,
# delta = 2.783, LL = -33,225.6.
PUBLISHED = BGBB(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)


@pytest.fixture(scope="module")
def donations_fit() -> BGBB:
    return BGBB.fit(DONATIONS, columns=COLS)  # the `weights` column is picked up


def test_donations_estimates_match_fader_hardie_berger_2010(donations_fit):
    for name, value in PUBLISHED.params.items():
        assert donations_fit.params[name] == pytest.approx(value, abs=6e-4), name
    assert donations_fit.log_likelihood == pytest.approx(-33225.6, abs=0.05)
    report = donations_fit.fit_report
    assert report.converged
    assert report.n_observations == 11104
    assert report.n_distinct == 22
    for name in PUBLISHED.PARAMS:
        low, high = report.confidence_intervals[name]
        assert low < donations_fit.params[name] < high
    assert PUBLISHED.log_likelihood_of(DONATIONS, columns=COLS, weights="weights") == pytest.approx(
        -33225.6, abs=0.05
    )


# --------------------------------------------------------------------------- brute force
# Independent reference: enumerate the model's story over a Gauss-Jacobi grid of (p, theta).
# Every quantity below is a polynomial in p and theta, integrated exactly by the grid.
_XP, _WP = special.roots_jacobi(60, PUBLISHED.beta - 1, PUBLISHED.alpha - 1)
_XT, _WT = special.roots_jacobi(60, PUBLISHED.delta - 1, PUBLISHED.gamma - 1)
P, TH = np.meshgrid((1 + _XP) / 2, (1 + _XT) / 2, indexing="ij")
W = np.outer(_WP / _WP.sum(), _WT / _WT.sum())


def _sequence_likelihood(purchases, n):
    """P(this exact 0/1 sequence over opportunities 1..n | p, theta) on the grid.

    Alive through n, or alive through some k >= last purchase and gone at k + 1 <= n.
    """
    x = len(purchases)
    last = max(purchases, default=0)
    total = P**x * (1 - P) ** (n - x) * (1 - TH) ** n
    for k in range(last, n):
        total = total + P**x * (1 - P) ** (k - x) * TH * (1 - TH) ** k
    return total


def _brute(x, tx, n):
    seq = [*range(1, x), tx] if x > 0 else []
    lik = _sequence_likelihood(seq, n)
    like = float((W * lik).sum())
    alive_now = W * P**x * (1 - P) ** (n - x) * (1 - TH) ** n / like  # joint posterior, alive
    return like, alive_now


@pytest.mark.parametrize("history", [(0, 0, 6), (2, 3, 6), (3, 4, 6), (6, 6, 6), (1, 6, 6)])
def test_predictions_equal_brute_force_enumeration(history):
    x, tx, n = history
    rec = {"frequency": x, "recency": tx, "n": n}
    like, post = _brute(x, tx, n)
    assert math.exp(PUBLISHED.log_likelihood_of(rec)) == pytest.approx(like, rel=1e-10)
    assert PUBLISHED.p_alive(rec) == pytest.approx(float(post.sum()), rel=1e-10)
    assert PUBLISHED.p_alive(rec, horizon=3) == pytest.approx(
        float((post * (1 - TH) ** 3).sum()), rel=1e-10
    )
    for t in (1, 5, 10):
        expected = float((post * P * sum((1 - TH) ** k for k in range(1, t + 1))).sum())
        assert PUBLISHED.expected_purchases(rec, t) == pytest.approx(expected, rel=1e-10)
    # P(k transactions in the next 5): J future opportunities survived, binomial purchases.
    alive = float(post.sum())
    for k in range(6):
        total = np.zeros_like(P)
        for j in range(k, 6):
            survive_j = (1 - TH) ** j * (TH if j < 5 else 1.0)
            total = total + survive_j * special.comb(j, k) * P**k * (1 - P) ** (j - k)
        value = float((post * total).sum()) + (1 - alive) * (k == 0)
        assert PUBLISHED.p_purchases(rec, k, 5) == pytest.approx(value, rel=1e-9, abs=1e-14)


def test_likelihoods_of_all_sequences_sum_to_one():
    # Each (x, t_x) likelihood is that of one sequence; C(t_x - 1, x - 1) sequences share it.
    for n in (1, 4, 7):
        total = 0.0
        for x in range(n + 1):
            for tx in range(x, n + 1):
                if (x == 0) != (tx == 0):
                    continue
                count = 1 if x == 0 else math.comb(tx - 1, x - 1)
                ll = PUBLISHED.log_likelihood_of({"frequency": x, "recency": tx, "n": n})
                total += count * math.exp(ll)
        assert total == pytest.approx(1.0, abs=1e-12)
    # ... and by enumerating the sequences themselves on the grid
    n = 5
    grid_total = sum(
        float((W * _sequence_likelihood(list(s), n)).sum())
        for x in range(n + 1)
        for s in combinations(range(1, n + 1), x)
    )
    assert grid_total == pytest.approx(1.0, abs=1e-12)


def test_paper_p_alive_formula_is_horizon_one():
    # FHB 2010, eq. 11: P(alive in n+1) = B(a+x, b+n-x)/B(a,b) B(g, d+n+1)/B(g,d) / L.
    a, b, g, d = 1.204, 0.750, 0.657, 2.783
    x, tx, n = 3, 4, 6
    rec = {"frequency": x, "recency": tx, "n": n}
    like = math.exp(PUBLISHED.log_likelihood_of(rec))
    by_hand = math.exp(
        special.betaln(a + x, b + n - x)
        - special.betaln(a, b)
        + special.betaln(g, d + n + 1)
        - special.betaln(g, d)
    )
    assert PUBLISHED.p_alive(rec, horizon=1) == pytest.approx(by_hand / like, rel=1e-12)


def test_new_customer_expectations_match_eq_8_and_eq_7():
    a, b, g, d = 1.204, 0.750, 0.657, 2.783
    for t in (1, 6, 11, 100):
        # eq. 8: a/(a+b) d/(g-1) [1 - G(g+d) G(1+d+t) / (G(g+d+t) G(1+d))]
        ratio = math.exp(
            math.lgamma(g + d)
            + math.lgamma(1 + d + t)
            - math.lgamma(g + d + t)
            - math.lgamma(1 + d)
        )
        by_hand = a / (a + b) * d / (g - 1) * (1 - ratio)
        assert PUBLISHED.expected_purchases_new(t) == pytest.approx(by_hand, rel=1e-10)
    probs = [PUBLISHED.p_purchases_new(k, 6) for k in range(7)]
    assert sum(probs) == pytest.approx(1.0, abs=1e-12)
    assert np.dot(probs, np.arange(7)) == pytest.approx(PUBLISHED.expected_purchases_new(6), 1e-10)
    np.testing.assert_allclose(
        PUBLISHED.expected_purchases_new([0, 6]), [0.0, PUBLISHED.expected_purchases_new(6)]
    )


def test_gamma_equal_to_one_is_a_removable_singularity():
    around = [
        BGBB(alpha=1.2, beta=0.7, gamma=g, delta=2.5).expected_purchases_new(20)
        for g in (1 - 1e-7, 1.0, 1 + 1e-7)
    ]
    assert around[0] == pytest.approx(around[1], rel=1e-6)
    assert around[2] == pytest.approx(around[1], rel=1e-6)
    # exact limit: a/(a+b) d (psi(1+d+t) - psi(1+d))
    limit = 1.2 / 1.9 * 2.5 * (special.digamma(23.5) - special.digamma(3.5))
    assert around[1] == pytest.approx(limit, rel=1e-12)


@pytest.mark.parametrize("gamma", [0.05, 0.9995, 1.0, 1.002, 3.0, 60.0])
@pytest.mark.parametrize("delta", [0.02, 2.783, 11.5, 5000.0])
def test_long_horizons_equal_the_term_by_term_sum(gamma, delta):
    # E[X(t)] = a/(a+b) sum_{k=1}^t prod_{j<k} (delta + j)/(gamma + delta + j): summed here term
    # by term (math.fsum), against the closed form the model uses for t > 64.
    m = BGBB(alpha=1.0, beta=1.0, gamma=gamma, delta=delta)
    for t in (65, 300, 2000):
        ratio, terms = 1.0, []
        for j in range(t):
            ratio *= (delta + j) / (gamma + delta + j)
            terms.append(ratio)
        assert m.expected_purchases_new(t) == pytest.approx(0.5 * math.fsum(terms), rel=1e-10)


def test_dert_equals_brute_force_and_the_clv_discrete_sum():
    rec = {"frequency": 3, "recency": 4, "n": 6}
    _, post = _brute(3, 4, 6)
    k = np.arange(1, 1500)
    brute = float((post * P * sum((1 - TH) ** j / 1.1**j for j in k[:400])).sum())
    assert PUBLISHED.dert(rec, 0.1) == pytest.approx(brute, rel=1e-10)
    # The CLV module's discrete form with one step per opportunity (unit "Y", annual rate) sums
    # the same discounted increments; over a long horizon it converges to DERT.
    long = discounted_purchases(PUBLISHED, rec, horizon=600, discount_rate=0.1, unit="Y")
    assert long == pytest.approx(PUBLISHED.dert(rec, 0.1), rel=1e-9)
    # No discounting: all future transactions, finite only when gamma > 1.
    finite = BGBB(alpha=1.0, beta=1.0, gamma=3.0, delta=3.0)
    total = finite.dert(rec, 0.0)
    # the tail beyond t falls like t**-(gamma - 1)
    assert total == pytest.approx(finite.expected_purchases(rec, 100_000), rel=1e-7)
    with pytest.raises(ArgumentError, match="infinite"):
        PUBLISHED.dert(rec, 0.0)


def test_gradient_matches_finite_differences():
    x, tx, n = (DONATIONS[c].to_numpy(float) for c in ("frequency", "recency", "periods"))
    w = DONATIONS["weights"].to_numpy(float)
    for theta in ([1.204, 0.750, 0.657, 2.783], [0.3, 4.0, 2.5, 0.4]):
        z = np.log(theta)
        _, grads = _row_loglik(np.exp(z), x, tx, n, True)
        grad = (w @ grads) * np.exp(z)
        h = 1e-6
        numeric = [
            (
                w @ _row_loglik(np.exp(z + h * e), x, tx, n, False)[0]
                - w @ _row_loglik(np.exp(z - h * e), x, tx, n, False)[0]
            )
            / (2 * h)
            for e in np.eye(4)
        ]
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-4)


def test_simulated_histories_follow_the_model():
    sim = PUBLISHED.simulate(200_000, 6, seed=4, holdout=5)
    # Marginal distribution of the frequency equals P(X(6) = x) (eq. 7).
    for k in range(7):
        observed = float(np.mean(sim["frequency"] == k))
        assert observed == pytest.approx(PUBLISHED.p_purchases_new(k, 6), abs=0.004)
    # Conditional expectations and P(alive-based) zero probabilities match the holdout.
    summary = {k: sim[k] for k in ("frequency", "recency", "n")}
    expected = PUBLISHED.expected_purchases(summary, 5)
    assert expected.mean() == pytest.approx(sim["frequency_holdout"].mean(), rel=0.02)
    for group in (sim["frequency"] == 0, sim["recency"] == 6, sim["frequency"] == 3):
        assert expected[group].mean() == pytest.approx(
            sim["frequency_holdout"][group].mean(), rel=0.05
        )
    none = PUBLISHED.p_purchases(summary, 0, 5)
    assert none.mean() == pytest.approx(np.mean(sim["frequency_holdout"] == 0), abs=0.005)
    # Distribution of (x, t_x) matches the likelihood x number of sequences.
    for x, tx in ((1, 1), (2, 5), (6, 6)):
        observed = float(np.mean((sim["frequency"] == x) & (sim["recency"] == tx)))
        ll = PUBLISHED.log_likelihood_of({"frequency": x, "recency": tx, "n": 6})
        assert observed == pytest.approx(math.comb(tx - 1, x - 1) * math.exp(ll), abs=0.003)


def test_parameter_recovery_from_simulated_data():
    true = BGBB(alpha=0.8, beta=1.5, gamma=1.5, delta=4.0)
    n = np.random.default_rng(5).integers(4, 15, size=30_000)
    fitted = BGBB.fit(true.simulate(30_000, n, seed=6))
    for name, value in true.params.items():
        low, high = fitted.fit_report.confidence_intervals[name]
        se = fitted.fit_report.standard_errors[name]
        assert low - se < value < high + se, (name, value, low, high)


def test_table_kinds_and_weights(donations_fit):
    expanded = DONATIONS.loc[DONATIONS.index.repeat(DONATIONS["weights"])].drop(columns="weights")
    again = BGBB.fit(expanded.reset_index(drop=True), columns=COLS)
    assert again.params == pytest.approx(donations_fit.params, rel=1e-7)
    explicit = BGBB.fit(DONATIONS, columns=COLS, weights=DONATIONS["weights"].to_numpy())
    assert explicit.params == pytest.approx(donations_fit.params, rel=1e-9)
    pl = pytest.importorskip("polars")
    out = PUBLISHED.p_alive(pl.from_pandas(DONATIONS), columns=COLS)
    assert isinstance(out, np.ndarray)
    assert out.shape == (22,)
    # predictions on many repeated rows go through the distinct histories
    many = PUBLISHED.expected_purchases(expanded, 5, columns=COLS)
    assert len(many) == 11104
    table = PUBLISHED.expected_purchases(DONATIONS, 5, columns=COLS)
    np.testing.assert_allclose(np.repeat(table, DONATIONS["weights"].to_numpy()), many, rtol=1e-13)


def test_json_round_trip_keeps_everything(donations_fit):
    again = BGBB.from_dict(json.loads(json.dumps(donations_fit.to_dict())))
    assert again == donations_fit
    assert again.fit_report == donations_fit.fit_report
    assert PublicBGBB is BGBB


def test_bad_input_names_the_rows():
    cases = [
        ({"frequency": [1, 2], "recency": [3, 7], "n": [6, 6]}, "recency > n", (1,)),
        ({"frequency": [3, 1], "recency": [2, 1], "n": [6, 6]}, "frequency > recency", (0,)),
        ({"frequency": [0, 0], "recency": [0, 2], "n": [6, 6]}, "frequency 0", (1,)),
    ]
    for summary, match, rows in cases:
        with pytest.raises(DataError, match=match) as info:
            PUBLISHED.p_alive(summary)
        assert info.value.rows == rows
    with pytest.raises(DataError, match="negative"):
        PUBLISHED.p_alive({"frequency": [1, -1], "recency": [1, 1], "n": [6, 6]})
    with pytest.raises(DataError, match="non-integer"):
        PUBLISHED.p_alive({"frequency": [1, 1], "recency": [1.5, 1], "n": [6, 6]})
    with pytest.raises(DataError, match="frequency 0"):
        BGBB.fit({"frequency": [0, 0], "recency": [0, 0], "n": [6, 6]})
    with pytest.raises(DataError, match="n"):
        BGBB.fit({"frequency": [1], "recency": [1]})
    for bad in (2.5, -1, True, math.nan):
        with pytest.raises(ArgumentError, match="whole number"):
            PUBLISHED.expected_purchases({"frequency": 1, "recency": 1, "n": 6}, bad)
    with pytest.raises(ArgumentError, match="discount_rate"):
        PUBLISHED.dert({"frequency": 1, "recency": 1, "n": 6}, -0.1)
    with pytest.raises(ArgumentError, match="delta"):
        BGBB(alpha=1.0, beta=1.0, gamma=1.0, delta=math.inf)
    # CLV's continuous form would ask for fractional opportunities: a clear error instead
    with pytest.raises(ArgumentError, match="method='discrete'"):
        clv(
            PUBLISHED,
            10.0,
            DONATIONS,
            horizon=5,
            discount_rate=0.1,
            unit="Y",
            columns=COLS,
            method="continuous",
        )


def test_extreme_histories_stay_finite():
    m = PUBLISHED
    rows = {"frequency": [0, 2000, 4999, 1, 5000], "recency": [0, 4000, 5000, 1, 5000]}
    rows["n"] = [5000] * 5
    for values in (
        m.p_alive(rows),
        m.p_alive(rows, horizon=100),
        m.expected_purchases(rows, 52),
        m.expected_purchases(rows, 1000),
        m.p_purchases(rows, 2, 10),
        m.dert(rows, 0.05),
    ):
        assert np.all(np.isfinite(values))
        assert np.all(values >= 0)
    assert m.p_alive(rows)[4] == 1.0  # transacted at the last opportunity
    assert math.isfinite(m.log_likelihood_of(rows))


params_st = st.tuples(
    st.floats(0.05, 20.0), st.floats(0.05, 20.0), st.floats(0.05, 20.0), st.floats(0.05, 20.0)
)
history_st = st.tuples(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))


@settings(max_examples=60, deadline=None)
@given(params_st, history_st, st.integers(0, 80))
def test_probabilities_monotonicity_and_faces(params, history, t):
    m = BGBB(alpha=params[0], beta=params[1], gamma=params[2], delta=params[3])
    a, b, c = sorted(history)
    x, tx, n = a, b, c
    assume((x == 0) == (tx == 0))
    rec = {"frequency": x, "recency": tx, "n": n}
    alive = m.p_alive(rec)
    assert 0.0 <= alive <= 1.0
    if tx == n:
        assert alive == pytest.approx(1.0)
    assert 0.0 <= m.p_alive(rec, horizon=t) <= alive + 1e-12
    assert 0.0 <= m.p_purchases(rec, 1, t) <= 1.0
    assert math.isfinite(m.log_likelihood_of(rec))
    e1, e2 = m.expected_purchases(rec, t), m.expected_purchases(rec, t + 3)
    assert np.isfinite(e2)
    assert 0.0 <= e1 <= e2 * (1 + 1e-9) + 1e-12
    assert e2 <= t + 3  # at most one transaction per opportunity
    table = {k: [v, v] for k, v in rec.items()}
    np.testing.assert_allclose(m.expected_purchases(table, t), [e1, e1], rtol=1e-12)
    np.testing.assert_allclose(m.p_alive(table), [alive, alive], rtol=1e-12)
    new1, new2 = m.expected_purchases_new(t), m.expected_purchases_new(t + 3)
    assert 0.0 <= new1 <= new2 * (1 + 1e-9) + 1e-12


@settings(max_examples=50, deadline=None)
@given(params_st)
def test_to_dict_round_trip_is_exact(params):
    m = BGBB(alpha=params[0], beta=params[1], gamma=params[2], delta=params[3])
    assert BGBB.from_dict(json.loads(json.dumps(m.to_dict()))) == m


def test_survival_sum_closed_form_meets_the_direct_sum():
    # Horizons beyond 64 periods use the closed form (once per distinct (t, g, d)); it must
    # agree with the term-by-term sum, for g on both sides of and at the removable g = 1.
    from clientmodel.ltv._discrete import survival_sum

    t = np.arange(60, 70)
    for g in (0.657, 1.0, 1.0 + 1e-6, 3.2):
        d = np.array([2.783, 8.783, 2.783])
        got = survival_sum(t[:, None], g, d[None, :])
        k = np.arange(1, 70)[:, None]
        terms = np.exp(special.betaln(g, d[None, :] + k) - special.betaln(g, d[None, :]))
        direct = np.cumsum(terms, axis=0)[t - 1]
        np.testing.assert_allclose(got, direct, rtol=1e-11)
        assert got[-1, 0] == got[-1, 2]
