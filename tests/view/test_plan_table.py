"""plan_table (table face) == the first action of next_actions (record face), on random bases."""

from __future__ import annotations

import math
from typing import Any

import hypothesis.strategies as st
import pandas as pd
import polars as pl
import pytest
from hypothesis import Phase, given, settings

from clientmodel.profile import Profile, StaffMember, set_consent, start_relationship
from clientmodel.view import (
    DEFAULT_PLAYBOOK,
    ContactPressure,
    Holdout,
    customer_view,
    day_plan,
    day_plan_table,
    flatten,
    next_actions,
    plan_table,
    purchase_timing,
    timing_table,
    view_table,
)

from .conftest import AS_OF

CHANNELS = ["sms", "wecom", "email"]


@st.composite
def base(draw: Any) -> list[dict[str, Any]]:
    people = []
    for i in range(draw(st.integers(1, 8))):
        t = draw(st.floats(1, 60))
        people.append(
            {
                "person_id": f"p{i}",
                "contactable": draw(st.lists(st.sampled_from(CHANNELS), unique=True)),
                "tags": draw(st.lists(st.sampled_from(["vip", "x"]), unique=True)),
                "frequency": float(draw(st.integers(0, 5))),
                "recency": draw(st.floats(0, t)),
                "T": t,
                "monetary_value": draw(st.floats(0, 500)),
                "p_alive": draw(st.floats(0, 1)),
                "churn_risk": draw(st.floats(0, 1)),
                "clv": draw(st.floats(0, 2000)),
                "lifecycle": draw(st.sampled_from(["new", "active"])),
                "touches": draw(st.integers(0, 3)),
            }
        )
    return people


@pytest.mark.parametrize("kind", ["pandas", "polars"])
@settings(max_examples=12)
@given(rows=base())
def test_plan_table_equals_first_record_action(kind: str, rows: list[dict[str, Any]]) -> None:
    frame = pd.DataFrame(rows)

    def native(cols: list[str]) -> Any:
        part = frame[["person_id", *cols]]
        return pl.from_pandas(part) if kind == "polars" else part

    timing = timing_table(native(["frequency", "recency", "T"]), typical_gap=10.0)
    table = view_table(
        native(["contactable", "tags"]),
        summary=native(["frequency", "recency", "T", "monetary_value"]),
        scores=native(["p_alive", "churn_risk", "clv"]),
        segments=native(["lifecycle"]),
        timing=timing,
    )
    if kind == "polars":
        table = table.with_columns(pl.Series("touches", frame["touches"].tolist()))
    else:
        table = table.assign(touches=frame["touches"].tolist())
    pressure = ContactPressure(max_touches=2)
    out = plan_table(
        table, DEFAULT_PLAYBOOK, as_of=AS_OF, pressure=pressure, recent_touches="touches"
    )
    got = out.to_dicts() if kind == "polars" else out.astype(object).to_dict("records")
    for row, want in zip(got, rows, strict=True):
        from clientmodel.profile import Profile, set_consent

        profile = Profile(profile_id=want["person_id"])
        for c in want["contactable"]:
            profile = set_consent(profile, c, "granted", at=AS_OF)
        profile, _ = _tags(profile, want["tags"])
        summary = {k: want[k] for k in ("frequency", "recency", "T", "monetary_value")}
        view = customer_view(
            want["person_id"],
            as_of=AS_OF,
            profile=profile,
            summary=summary,
            scores={k: want[k] for k in ("p_alive", "churn_risk", "clv")},
            segment={"lifecycle": want["lifecycle"]},
            timing=purchase_timing(summary, typical_gap=10.0),
        )
        earlier = [AS_OF] * want["touches"]
        res = next_actions(view, DEFAULT_PLAYBOOK, as_of=AS_OF, pressure=pressure, touches=earlier)
        first = res.actions[0] if res.actions else None
        play = row["play_id"]
        if isinstance(play, float) and math.isnan(play):
            play = None
        assert play == (first.play_id if first else None), row
        if first is not None:
            assert row["channel"] == first.channel
            assert row["value"] == pytest.approx(first.value)


def _tags(profile: Any, tags: list[str]) -> Any:
    from clientmodel.profile import add_tag

    changes: list[Any] = []
    for tag in tags:
        profile, more = add_tag(profile, tag, at=AS_OF)
        changes += more
    return profile, changes


STAFF = [
    StaffMember(staff_id="s1", team="north"),
    StaffMember(staff_id="s2", team="north"),
    StaffMember(staff_id="s3", team="south", active=False),
    StaffMember(staff_id="s4", team="south"),
]


@pytest.mark.parametrize("kind", ["pandas", "polars"])
@settings(max_examples=10, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(
    rows=base(),
    owners=st.lists(st.sampled_from(["s1", "s2", "s3", None]), min_size=8, max_size=8),
    capacity=st.integers(1, 3),
)
def test_day_plan_table_equals_day_plan(
    kind: str, rows: list[dict[str, Any]], owners: list[str | None], capacity: int
) -> None:
    views = []
    for want, owner in zip(rows, owners, strict=False):
        profile = Profile(profile_id=want["person_id"])
        for c in want["contactable"]:
            profile = set_consent(profile, c, "granted", at=AS_OF)
        if owner is not None:
            profile = start_relationship(profile, owner, at=AS_OF, how="assignment")
        summary = {k: want[k] for k in ("frequency", "recency", "T", "monetary_value")}
        views.append(
            customer_view(
                want["person_id"],
                as_of=AS_OF,
                profile=profile,
                summary=summary,
                scores={k: want[k] for k in ("p_alive", "churn_risk", "clv")},
                segment={"lifecycle": want["lifecycle"]},
                timing=purchase_timing(summary, typical_gap=10.0),
                staff=STAFF,
            )
        )
    holdout = Holdout(seed=3, share=0.2)
    plan = day_plan(
        views, DEFAULT_PLAYBOOK, as_of=AS_OF, staff=STAFF, capacity=capacity, holdout=holdout
    )
    records = [flatten(v) for v in views]
    # polars reads an all-null column as Null (pandas would hand it over as text)
    flat = (
        pl.DataFrame(records, infer_schema_length=None)
        if kind == "polars"
        else pd.DataFrame(records)
    )
    out = day_plan_table(
        flat, DEFAULT_PLAYBOOK, as_of=AS_OF, staff=STAFF, capacity=capacity, holdout=holdout
    )
    got = out.to_dicts() if kind == "polars" else out.astype(object).to_dict("records")
    placed = [r for r in got if isinstance(r["staff_id"], str)]  # pandas shows a null as NaN
    table_tasks = {(r["person_id"], r["play_id"], r["staff_id"]) for r in placed}
    record_tasks = {(a.person_id, a.play_id, s) for s, tasks in plan.tasks for a in tasks}
    assert table_tasks == record_tasks
    deferred = {(r["person_id"], r["play_id"]) for r in got if r not in placed}
    assert deferred == {(a.person_id, a.play_id) for a in plan.deferred}
