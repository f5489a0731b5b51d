"""Several pipelines side by side: split a book of deals by pipeline, each checked against its own.

Analytics never mix pipelines (a deal of another pipeline is a
:class:`~clientmodel.errors.DataError`); :func:`by_pipeline` is the one place that takes a mixed
book and hands each pipeline its own deals, so a report runs per pipeline::

    {pid: weighted_pipeline(ds, p) for pid, (p, ds) in by_pipeline(deals, pipelines).items()}
"""

from __future__ import annotations

from collections.abc import Sequence

from clientmodel._validation import boundary
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel._check import check_deals
from clientmodel.funnel.models import Deal, Pipeline

__all__ = ["by_pipeline"]


@boundary
def by_pipeline(
    deals: Sequence[Deal], pipelines: Sequence[Pipeline]
) -> dict[str, tuple[Pipeline, list[Deal]]]:
    """``pipeline id -> (pipeline, its deals)`` for every pipeline given, in the order given.

    Each group is checked against its pipeline (stages, closed/kind agreement); deals of a
    pipeline not given are an error naming them, never dropped.

    Examples
    --------
    >>> import datetime as dt
    >>> from clientmodel.datasets.deals import standard_pipeline
    >>> from clientmodel.funnel.transitions import open_deal
    >>> sales, renewals = standard_pipeline(), standard_pipeline(pipeline_id="renewals")
    >>> t0 = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    >>> book = [open_deal(i, p, at=t0, account_id="A", owner="o", amount=1)
    ...         for i, p in (("S1", sales), ("R1", renewals), ("S2", sales))]
    >>> {pid: [d.id for d in ds] for pid, (_, ds) in by_pipeline(book, [sales, renewals]).items()}
    {'sales': ['S1', 'S2'], 'renewals': ['R1']}
    """
    if isinstance(pipelines, Pipeline) or not isinstance(pipelines, Sequence):
        raise ArgumentError("pipelines must be a list of Pipeline records", field="pipelines")
    known: dict[str, Pipeline] = {}
    for i, p in enumerate(pipelines):
        if not isinstance(p, Pipeline):
            raise ArgumentError(
                f"pipelines[{i}] is a {type(p).__name__}, not a Pipeline", field="pipelines"
            )
        if p.id in known:
            raise ArgumentError(f"pipeline id {p.id!r} is given twice", field="pipelines")
        known[p.id] = p
    if isinstance(deals, (str, bytes, Deal)) or not isinstance(deals, Sequence):
        raise ArgumentError("deals must be a list of Deal records", field="deals")
    groups: dict[str, list[Deal]] = {pid: [] for pid in known}
    strangers: dict[str, list[str]] = {}
    for i, d in enumerate(deals):
        if not isinstance(d, Deal):
            raise DataError(
                f"deals[{i}] is a {type(d).__name__}, not a Deal", field="deals", rows=[i]
            )
        if d.pipeline_id in groups:
            groups[d.pipeline_id].append(d)
        else:
            strangers.setdefault(d.pipeline_id, []).append(d.id)
    if strangers:
        named = "; ".join(f"{pid!r}: {ids[:5]}" for pid, ids in sorted(strangers.items()))
        raise DataError(
            f"deals belong to pipeline(s) not given ({named}); pass those pipelines too",
            field="deals",
        )
    out: dict[str, tuple[Pipeline, list[Deal]]] = {}
    for pid, p in known.items():
        out[pid] = (p, check_deals(groups[pid], p))
    return out
