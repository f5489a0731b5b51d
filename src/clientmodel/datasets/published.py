"""The public yardstick data of customer-base analysis, shipped with the package.

Two data sets that the papers behind :mod:`clientmodel.ltv` were estimated on, so a result of
this library can be checked against a published figure without a download:

* **CDNOW** (:func:`load_cdnow`): every purchase of a 1/10th systematic sample (2,357 customers)
  of the 23,570 people who made their first purchase at the online music retailer CDNOW in the
  first quarter of 1997, followed until 1998-06-30; and the published 39-week calibration
  summary of the same customers (Fader, Hardie & Lee 2005).
* **Donations** (:func:`load_donations`): the repeat-donation histories of the 11,104 first-time
  supporters of a US non-profit in 1995, observed over six annual opportunities (1996-2001),
  as the 22 distinct histories with their counts (Fader, Hardie & Shang 2010).

Provenance: both come from Bruce Hardie's public data-sets page (brucehardie.com/datasets),
which accompanies the papers; the same files are redistributed by the open-source BTYD packages.
The files under ``clientmodel/datasets/data`` are those files, except that the CDNOW purchase log
was rewritten from the original whitespace-separated ``CDNOW_sample.txt`` (columns: master id,
sample id, ``YYYYMMDD`` date, number of CDs, dollar value) as a CSV with the sample id as
``customer_id``, the date in ISO form, ``quantity`` and ``amount``: same rows, same order.
:func:`data_path` gives the path of each file, e.g. for a command-line run.

References
----------
P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "'Counting Your Customers' the Easy Way: An
Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284.
P. S. Fader, B. G. S. Hardie and J. Shang (2010), "Customer-Base Analysis in a Discrete-Time
Noncontractual Setting", *Marketing Science* 29(6), 1086-1108.
"""

from __future__ import annotations

import csv
import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import attrs
import numpy as np

from clientmodel._validation import boundary, check_choice

__all__ = ["FILES", "CdnowData", "data_path", "load_cdnow", "load_donations"]

#: The data files shipped in the wheel, by name.
FILES: tuple[str, ...] = ("cdnow_transactions.csv", "cdnow_summary.csv", "donations.csv")

_FRAMES = ("dict", "pandas", "polars")


@attrs.frozen(eq=False)
class CdnowData:
    """The CDNOW sample: its purchase log and the published calibration summary.

    Attributes
    ----------
    transactions:
        One row per purchase (6,919 rows; several on one day are possible): ``customer_id``
        (the sample id, ``"0001"`` to ``"2357"``), ``date`` (the day of the purchase),
        ``quantity`` (CDs bought) and ``amount`` (US dollars).
    summary:
        One row per customer, as published for the 39-week calibration period that ends on
        ``calibration_end``: ``customer_id``, ``frequency`` (repeat purchases, same-day purchases
        merged; the paper's ``x``), ``recency`` (weeks from the first to the last purchase,
        ``t_x``), ``T`` (weeks from the first purchase to the end of calibration) and
        ``monetary_value`` (mean dollar value of the repeat purchases, 0 without any; ``zbar``).
        Figures are rounded to two decimals, as published.
    calibration_end:
        1997-09-30, the last day of the calibration period (the 39th week).
    end:
        1998-06-30, the last day of the purchase log (78 weeks).
    unit:
        ``"W"``: the summary's time unit.
    """

    transactions: Any
    summary: Any
    calibration_end: dt.date = dt.date(1997, 9, 30)
    end: dt.date = dt.date(1998, 6, 30)
    unit: str = "W"


@boundary
def data_path(name: str) -> Path:
    """The path of one of the shipped data files (see :data:`FILES`).

    Parameters
    ----------
    name:
        A file name from :data:`FILES`.

    Returns
    -------
    The file's path inside the installed package.

    Examples
    --------
    >>> data_path("cdnow_transactions.csv").read_text().splitlines()[:2]
    ['customer_id,date,quantity,amount', '0001,1997-01-01,2,29.33']
    """
    check_choice(name, "name", FILES)
    return Path(str(resources.files("clientmodel.datasets") / "data" / name))


@boundary
def load_cdnow(frame: Literal["dict", "pandas", "polars"] = "dict") -> CdnowData:
    """The CDNOW sample of Fader, Hardie & Lee (2005): purchase log and published summary.

    Parameters
    ----------
    frame:
        ``"dict"`` (numpy arrays; ``date`` as ``datetime64[D]``), ``"pandas"`` (``date`` as
        UTC midnight timestamps: pandas has no date type) or ``"polars"`` (``date`` as
        ``pl.Date``).

    Returns
    -------
    :class:`CdnowData` with ``transactions`` and ``summary`` in the chosen kind of table.

    Examples
    --------
    Summarising the log at the end of calibration gives the published summary back:

    >>> from clientmodel.transactions import summarize
    >>> cdnow = load_cdnow()
    >>> calibration = cdnow.transactions["date"] <= np.datetime64(cdnow.calibration_end)
    >>> log = {k: v[calibration] for k, v in cdnow.transactions.items()}
    >>> ours = summarize(log, as_of=cdnow.calibration_end, unit="W", time="date", amount="amount")
    >>> print(ours["customer_id"][0], ours["frequency"][0], round(ours["recency"][0], 2))
    0001 2 30.43
    >>> print(cdnow.summary["frequency"][0], cdnow.summary["recency"][0])
    2 30.43
    """
    _check_frame(frame)
    rows = _read_csv("cdnow_transactions.csv")
    transactions: dict[str, Any] = {
        "customer_id": np.array([r[0] for r in rows]),
        "date": np.array([r[1] for r in rows], dtype="datetime64[D]"),
        "quantity": np.array([int(r[2]) for r in rows], dtype=np.int64),
        "amount": np.array([float(r[3]) for r in rows]),
    }
    rows = _read_csv("cdnow_summary.csv")
    summary: dict[str, Any] = {
        "customer_id": np.array([f"{int(r[0]):04d}" for r in rows]),
        "frequency": np.array([int(r[1]) for r in rows], dtype=np.int64),
        "recency": np.array([float(r[2]) for r in rows]),
        "T": np.array([float(r[3]) for r in rows]),
        "monetary_value": np.array([float(r[4]) for r in rows]),
    }
    return CdnowData(
        transactions=_frame(transactions, frame, dates=("date",)),
        summary=_frame(summary, frame, dates=()),
    )


@boundary
def load_donations(frame: Literal["dict", "pandas", "polars"] = "dict") -> Any:
    """The donations data of Fader, Hardie & Shang (2010): 11,104 donors as 22 distinct histories.

    Each row is one repeat-donation history over ``n = 6`` annual opportunities (1996-2001) and
    the number of donors who share it: ``frequency`` (years with a donation), ``recency`` (the
    last such year, 0 for none), ``n`` and ``weights``. The columns are what
    :class:`~clientmodel.ltv.bgbb.BGBB` fits on (the published file calls ``n`` "periods").

    Parameters
    ----------
    frame:
        ``"dict"`` (numpy arrays), ``"pandas"`` or ``"polars"``.

    Returns
    -------
    The table in the chosen kind.

    Examples
    --------
    >>> donations = load_donations()
    >>> int(donations["weights"].sum()), len(donations["n"])
    (11104, 22)
    """
    _check_frame(frame)
    rows = _read_csv("donations.csv")
    table = {
        name: np.array([int(r[i]) for r in rows], dtype=np.int64)
        for i, name in enumerate(("frequency", "recency", "n", "weights"))
    }
    return _frame(table, frame, dates=())


def _check_frame(frame: str) -> None:
    check_choice(frame, "frame", _FRAMES)


def _read_csv(name: str) -> list[list[str]]:
    with data_path(name).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[1:]


def _frame(columns: dict[str, Any], frame: str, *, dates: tuple[str, ...]) -> Any:
    if frame == "dict":
        return columns
    if frame == "pandas":
        import pandas as pd

        out = pd.DataFrame(columns)
        for name in dates:
            out[name] = pd.to_datetime(out[name]).dt.tz_localize("UTC")
        return out
    import polars as pl

    return pl.DataFrame(columns)
