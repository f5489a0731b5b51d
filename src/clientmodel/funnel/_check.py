"""Pipeline-aware checks of deals at the door of every analytics function.

A deal is read against one pipeline: it must belong to it (deals of two pipelines are never
summed), every stage of its history must be a stage of it, and ``closed`` must agree with the kind
of the current stage. Problems are collected and reported together, naming the deals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel.models import Deal, Pipeline

_SHOWN = 5


def check_pipeline(pipeline: Any, field: str = "pipeline") -> Pipeline:
    if not isinstance(pipeline, Pipeline):
        raise ArgumentError(
            f"{field} must be a Pipeline; got {type(pipeline).__name__}", field=field
        )
    return pipeline


def _listing(items: Sequence[str]) -> str:
    more = f" (and {len(items) - _SHOWN} more)" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more


def deal_problem(deal: Deal, pipeline: Pipeline) -> str | None:
    """What is wrong with this deal for this pipeline, or ``None``."""
    if deal.pipeline_id != pipeline.id:
        return f"deal {deal.id!r} belongs to pipeline {deal.pipeline_id!r}"
    unknown = [c.to_stage for c in deal.history if not pipeline.has_stage(c.to_stage)]
    if unknown:
        return f"deal {deal.id!r} has stage(s) {sorted(set(unknown))} not in the pipeline"
    kind = pipeline.stage(deal.stage).kind
    if (kind == "open") != (deal.closed is None) or (kind != "open" and deal.closed != kind):
        return (
            f"deal {deal.id!r} is in {kind} stage {deal.stage!r} but closed={deal.closed!r} "
            f"(closed must be {None if kind == 'open' else kind!r})"
        )
    return None


def deal_list(deals: Any, field: str = "deals") -> list[Deal]:
    """A list of Deal records (no pipeline check), errors naming the first bad row."""
    if isinstance(deals, (str, bytes, Deal)) or not isinstance(deals, Sequence):
        raise ArgumentError(
            f"{field} must be a list of Deal records; got {type(deals).__name__}", field=field
        )
    for i, d in enumerate(deals):
        if not isinstance(d, Deal):
            raise DataError(
                f"{field}[{i}] is a {type(d).__name__}, not a Deal", field=field, rows=[i]
            )
    return list(deals)


def aware(value: Any, field: str) -> Any:
    """A timezone-aware datetime, else an ArgumentError naming ``field``."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ArgumentError(
            f"{field} must be a timezone-aware datetime; got {value!r}", field=field
        )
    return value


def of_type(value: Any, kind: type, field: str, what: str) -> Any:
    """``value`` if it is a ``kind`` (or None), else an ArgumentError saying what is wanted."""
    if value is not None and not isinstance(value, kind):
        raise ArgumentError(f"{field} must be {what}; got {type(value).__name__}", field=field)
    return value


def check_deal(deal: Any, pipeline: Pipeline, field: str = "deal") -> Deal:
    """One deal, checked against the pipeline (a :class:`DataError` naming it otherwise)."""
    check_pipeline(pipeline)
    if not isinstance(deal, Deal):
        raise DataError(f"{field} must be a Deal; got {type(deal).__name__}", field=field)
    problem = deal_problem(deal, pipeline)
    if problem is not None:
        raise DataError(
            f"{problem}; pipeline {pipeline.id!r} has stages "
            f"{[s.id for s in pipeline.ordered]}. Analyse each pipeline with its own deals",
            field=field,
        )
    return deal


def check_deals(deals: Any, pipeline: Pipeline, field: str = "deals") -> list[Deal]:
    """Deals checked against the pipeline; every problem is reported at once, naming deals."""
    check_pipeline(pipeline)
    if isinstance(deals, (str, bytes, Deal)) or not isinstance(deals, Sequence):
        raise ArgumentError(
            f"{field} must be a list of Deal records; got {type(deals).__name__}", field=field
        )
    problems: list[str] = []
    rows: list[int] = []
    foreign: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for i, d in enumerate(deals):
        if not isinstance(d, Deal):
            problems.append(f"row {i}: a {type(d).__name__}, not a Deal")
            rows.append(i)
            continue
        if d.id in seen:
            problems.append(f"row {i}: duplicate id {d.id!r} (also row {seen[d.id]})")
            rows.append(i)
            continue
        seen[d.id] = i
        if d.pipeline_id != pipeline.id:
            foreign.setdefault(d.pipeline_id, []).append(d.id)
            rows.append(i)
            continue
        problem = deal_problem(d, pipeline)
        if problem is not None:
            problems.append(f"row {i}: {problem}")
            rows.append(i)
    for other, ids in sorted(foreign.items()):
        problems.insert(
            0,
            f"{len(ids)} deal(s) of pipeline {other!r}, not {pipeline.id!r}: "
            f"{_listing([repr(x) for x in ids])}",
        )
    if problems:
        raise DataError(
            f"{field} do not fit pipeline {pipeline.id!r}: "
            + "; ".join(problems[:_SHOWN])
            + (f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else "")
            + ". Deals of different pipelines are never mixed: analyse each pipeline with its "
            f"own deals (its stages are {[s.id for s in pipeline.ordered]})",
            field=field,
            rows=rows,
        )
    return list(deals)
