"""Data sets: the shipped published data (CDNOW, donations) and the synthetic transaction logs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import special

from clientmodel.datasets import data_path, load_cdnow, load_donations
from clientmodel.datasets.published import FILES
from clientmodel.datasets.transactions import make_transactions
from clientmodel.errors import ArgumentError
from clientmodel.ltv.bgbb import BGBB
from clientmodel.ltv.bgnbd import BGNBD
from clientmodel.transactions import summarize


def bgnbd_expected_repeats(t: np.ndarray, r: float, alpha: float, a: float, b: float):
    # Fader, Hardie & Lee (2005), eq. 7: E[X(t)] for a customer observed for t periods.
    z = t / (alpha + t)
    return (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, z))
    )


def test_same_seed_same_log():
    one, two = make_transactions(300, seed=7), make_transactions(300, seed=7)
    assert all(np.array_equal(one[c], two[c]) for c in one)
    assert not np.array_equal(one["amount"], make_transactions(300, seed=8)["amount"])


def test_mean_repeat_purchases_match_the_closed_form():
    params = {"r": 0.5, "alpha": 6.0, "a": 1.5, "b": 3.0}
    log = make_transactions(
        40_000, seed=11, params=params, acquisition_weeks=20, observation_weeks=60
    )
    # Count every row (no same-day merging) and measure T exactly, as the process does.
    s = summarize(log, as_of="2025-02-23", unit="W", tz="UTC", merge=None)
    expected = bgnbd_expected_repeats(s["T"], **params)
    # Standard error of the mean of ~40k customers' counts is ~0.01; allow 4 of them.
    assert s["frequency"].mean() == pytest.approx(expected.mean(), abs=0.04)


def test_spend_mean_matches_gamma_gamma():
    # Each purchase is Gamma(p, nu), nu ~ Gamma(q, gamma): E[z] = p * gamma / (q - 1).
    spend = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    log = make_transactions(30_000, seed=5, spend=spend)
    per_customer = pd.DataFrame(log).groupby("customer_id")["amount"].first()
    assert per_customer.mean() == pytest.approx(6.0 * 15.0 / 3.0, rel=0.03)


def test_frames_carry_utc_timestamps():
    assert str(make_transactions(5, seed=1, frame="pandas")["timestamp"].dt.tz) == "UTC"
    assert make_transactions(5, seed=1, frame="polars").schema["timestamp"] == pl.Datetime(
        "us", "UTC"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_customers": 0},
        {"acquisition_weeks": 80.0, "observation_weeks": 52.0},
        {"params": {"r": -1.0, "alpha": 1.0, "a": 1.0, "b": 1.0}},
        {"frame": "excel"},
    ],
)
def test_bad_arguments(kwargs):
    with pytest.raises(ArgumentError):
        make_transactions(**{"n_customers": 10, **kwargs})


# -- the published data shipped in the wheel ---------------------------------------------------


ROOT = Path(__file__).resolve().parents[1]


def test_cdnow_log_summarises_to_the_published_summary():
    # The published 39-week summary (Fader, Hardie & Lee 2005) is independent of this library:
    # our summary of the shipped log must agree with it to its two published decimals.
    cdnow = load_cdnow()
    calibration = cdnow.transactions["date"] <= np.datetime64(cdnow.calibration_end)
    log = {k: v[calibration] for k, v in cdnow.transactions.items()}
    ours = summarize(log, as_of=cdnow.calibration_end, unit="W", time="date", amount="amount")
    published = cdnow.summary
    assert ours["customer_id"].tolist() == published["customer_id"].tolist()
    assert np.array_equal(ours["frequency"], published["frequency"])
    for column in ("recency", "T", "monetary_value"):
        assert np.abs(ours[column] - published[column]).max() <= 0.005 + 1e-9


def test_cdnow_shapes_and_span():
    cdnow = load_cdnow()
    assert len(cdnow.transactions["customer_id"]) == 6919  # rows of CDNOW_sample.txt
    assert len(set(cdnow.transactions["customer_id"].tolist())) == 2357
    assert cdnow.transactions["date"].min() == np.datetime64("1997-01-01")
    assert cdnow.transactions["date"].max() <= np.datetime64(cdnow.end)
    assert cdnow.transactions["quantity"].min() >= 1


def test_bgnbd_on_the_shipped_summary_gives_the_published_estimates():
    # Fader, Hardie & Lee (2005), section 5: r = 0.243, alpha = 4.414, a = 0.793, b = 2.426.
    params = BGNBD.fit(load_cdnow().summary).params
    assert params == pytest.approx({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, abs=6e-4)


def test_bgbb_on_the_shipped_donations_gives_the_published_estimates():
    # Fader, Hardie & Shang (2010), table 2: alpha 1.204, beta 0.750, gamma 0.657, delta 2.783.
    donations = load_donations()
    assert int(donations["weights"].sum()) == 11104
    params = BGBB.fit(donations).params
    expected = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    assert params == pytest.approx(expected, abs=6e-4)


@pytest.mark.parametrize("frame", ["pandas", "polars"])
def test_loaders_give_the_same_values_in_every_frame(frame):
    plain, framed = load_cdnow(), load_cdnow(frame)
    for name in ("transactions", "summary"):
        ours, theirs = getattr(plain, name), getattr(framed, name)
        assert list(theirs.columns) == list(ours)
        for column in ours:
            if column == "date":
                continue
            assert theirs[column].to_list() == ours[column].tolist()
    days = framed.transactions["date"]
    if frame == "pandas":
        assert str(days.dt.tz) == "UTC"
        assert (days.dt.normalize() == days).all()
    else:
        assert days.dtype == pl.Date
    assert load_donations(frame)["weights"].to_list() == load_donations()["weights"].tolist()


def test_loaders_refuse_an_unknown_frame_and_file():
    with pytest.raises(ArgumentError, match="frame"):
        load_cdnow("excel")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"cdnow_transactions\.csv"):
        data_path("cdnow.csv")


def test_data_files_match_their_published_sources():
    # Byte for byte where shipped verbatim; the CDNOW log row by row against the original text.
    data = ROOT / "tests" / "data"
    assert (
        data_path("cdnow_summary.csv").read_bytes()
        == (data / "cdnow_customers_summary_with_transactions.csv").read_bytes()
    )
    assert data_path("donations.csv").read_bytes() == (data / "donations.csv").read_bytes()
    original = [line.split() for line in (data / "CDNOW_sample.txt").read_text().splitlines()]
    shipped = data_path("cdnow_transactions.csv").read_text().splitlines()[1:]
    assert [
        f"{sample},{d[:4]}-{d[4:6]}-{d[6:]},{int(cds)},{usd}" for _, sample, d, cds, usd in original
    ] == shipped


def test_the_wheel_ships_the_data(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("clientmodel-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for name in FILES:
            member = f"clientmodel/datasets/data/{name}"
            assert member in names
            assert archive.read(member) == data_path(name).read_bytes()
    assert wheel.stat().st_size < 2_000_000  # "a few MB at most", with room to spare
