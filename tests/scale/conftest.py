"""Shared data for the scale tests: a small log, in memory and as lazy frames."""

from __future__ import annotations

import pytest

dask = pytest.importorskip("dask")
pytest.importorskip("dask.dataframe")

from clientmodel.datasets.transactions import make_transactions  # noqa: E402


@pytest.fixture(autouse=True)
def _local_dask(recwarn):
    # Tests run on dask's synchronous scheduler, in this process.
    with dask.config.set(scheduler="sync"):
        yield


@pytest.fixture(scope="session")
def log():
    frame = make_transactions(400, seed=5, frame="pandas")
    frame.loc[7, "amount"] = -2.5  # a refund
    return frame


@pytest.fixture(scope="session")
def dask_log(log):
    import dask.dataframe as dd

    return dd.from_pandas(log, npartitions=3)
