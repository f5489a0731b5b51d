r"""Content engagement ("interaction radar"): content items, engagement events, score, auto-tags.

Staff share :class:`ContentItem` records -- links, PDFs, articles, mini-program pages -- and each
open, view (with its duration), share or forward by a customer is an :class:`Engagement`. As of a
moment ``as_of`` the engagement of profile ``p`` with item ``c`` is

.. math::

    s_{p,c} = \sum_{e} \big(w_{a_e} + m \min(d_e / 60, M)\big)\, 2^{-(T - t_e)/h}

over the profile's events ``e`` on the item up to ``T = as_of``, with ``w_a`` the weight of the
action (``open`` 1, ``view`` 1, ``share`` 3, ``forward`` 3), ``d_e`` the seconds spent (open/view
only), ``m`` the weight of a minute of reading (1) capped at ``M`` minutes per event (10), and
``h`` the half-life in days (30) -- the same decay kernel as a profile's interest scores
(:func:`clientmodel.profile.activity.interest_at`). The profile's **engagement score** is
``sum_c s_{p,c}``, and the item's tags become **auto-tags** of the profile when
``s_{p,c} >= tag_threshold`` (3: one share or forward, or a few minutes of reading, recently).
All weights live in :class:`ContentConfig`.

The record face (:func:`content_engagement`) and the table face (:func:`content_engagement_table`)
run the same columnar kernel on events in one canonical order, so they agree to the last bit.

Examples
--------
>>> import datetime as dt
>>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
>>> guide = ContentItem(content_id="guide", kind="pdf", title="Skincare guide",
...                     tags=("skincare",))
>>> ev = [Engagement(profile_id="p1", content_id="guide", action="view", at=t,
...                  duration_seconds=150)]
>>> e = content_engagement([guide], ev, as_of=t)["p1"]
>>> e.score, e.tags
(3.5, ('skincare',))
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import attrs
import numpy as np
from numpy.typing import NDArray
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from clientmodel._validation import (
    check_number,
    number_reader,
    read_form,
    validate_records,
)
from clientmodel.errors import ArgumentError, DataError, describe_rows
from clientmodel.profile._common import FrozenDict, FrozenRecord, aware, check_instance, decay
from clientmodel.profile._instants import micros, sorted_codes, utc_micros
from clientmodel.profile.models import Profile, TagCatalog
from clientmodel.profile.tags import TagChange, add_tag
from clientmodel.tables import read_table

__all__ = [
    "ACTIONS",
    "CONTENT_KINDS",
    "ContentConfig",
    "ContentEngagement",
    "ContentItem",
    "Engagement",
    "apply_content_tags",
    "content_engagement",
    "content_engagement_table",
]

ContentKind = Literal["link", "pdf", "article", "mini_program_page"]
#: Kinds of content items.
CONTENT_KINDS: tuple[str, ...] = ContentKind.__args__  # type: ignore[attr-defined]
Action = Literal["open", "view", "share", "forward"]
#: Engagement actions; ``open`` and ``view`` may carry a duration.
ACTIONS: tuple[str, ...] = Action.__args__  # type: ignore[attr-defined]
_TIMED = ("open", "view")

_CONFIG = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)
_Id = Field(min_length=1, max_length=200)
_SECONDS_PER_DAY = 86_400.0


class ContentItem(FrozenRecord):
    """A piece of content staff share: a link, a PDF, an article or a mini-program page.

    Examples
    --------
    >>> ContentItem(content_id="c1", kind="article", title="Spring care", tags=("skincare",)).kind
    'article'
    """

    model_config = _CONFIG

    content_id: str = _Id
    kind: ContentKind
    title: str = Field(min_length=1, max_length=200)
    tags: tuple[str, ...] = ()
    url: str | None = None


class Engagement(BaseModel):
    """One customer's open, view, share or forward of a content item.

    ``duration_seconds`` is the time spent (``open`` and ``view`` only).

    Examples
    --------
    >>> import datetime as dt
    >>> Engagement(profile_id="p", content_id="c", action="share",
    ...            at=dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)).action
    'share'
    """

    model_config = _CONFIG

    profile_id: str = _Id
    content_id: str = _Id
    action: Action
    at: AwareDatetime
    duration_seconds: float | None = Field(default=None, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _duration(self) -> Engagement:
        if self.duration_seconds is not None and self.action not in _TIMED:
            raise ValueError(f"a {self.action} has no duration; durations go on open or view")
        return self


class ContentConfig(BaseModel):
    """Weights of the engagement score (see the module docs for the formula).

    Examples
    --------
    >>> ContentConfig(share_weight=5).share_weight
    5.0
    """

    model_config = _CONFIG

    open_weight: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    view_weight: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    share_weight: float = Field(default=3.0, ge=0, allow_inf_nan=False)
    forward_weight: float = Field(default=3.0, ge=0, allow_inf_nan=False)
    minute_weight: float = Field(default=1.0, ge=0, allow_inf_nan=False)
    max_minutes: float = Field(default=10.0, ge=0, allow_inf_nan=False)
    half_life_days: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    tag_threshold: float = Field(default=3.0, gt=0, allow_inf_nan=False)

    def action_weights(self) -> NDArray[np.float64]:
        """The weights in :data:`ACTIONS` order."""
        return np.array([getattr(self, f"{a}_weight") for a in ACTIONS], dtype=np.float64)


def _read_only(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return FrozenDict(mapping)


@attrs.frozen
class ContentEngagement:
    """One profile's engagement with content as of a moment.

    Attributes
    ----------
    profile_id:
        The profile.
    score:
        The engagement score (sum over items).
    by_content:
        Score per content item (read-only).
    tags:
        Auto-tags: the tags of the items whose score reached the threshold, sorted.

    Examples
    --------
    >>> e = ContentEngagement("p", 2.5, {"c1": 2.5}, ())
    >>> ContentEngagement.from_dict(e.to_dict()) == e
    True
    """

    profile_id: str
    score: float
    by_content: Mapping[str, float] = attrs.field(converter=_read_only)
    tags: tuple[str, ...]

    _FORM: ClassVar[dict[str, Any]] = {"score": number_reader(minimum=0)}

    def __attrs_post_init__(self) -> None:
        for cid, value in self.by_content.items():
            check_number(value, f"by_content.{cid}", minimum=0)
        total = math.fsum(self.by_content.values())
        if not math.isclose(check_number(self.score, "score"), total, rel_tol=1e-9, abs_tol=1e-12):
            raise ArgumentError(
                f"score={self.score!r} disagrees with by_content, whose scores sum to {total!r}; "
                "the score is the sum over items",
                field="score",
            )
        if list(self.tags) != sorted(set(self.tags)):
            raise ArgumentError(
                f"tags must be distinct and sorted, got {list(self.tags)}", field="tags"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "profile_id": self.profile_id,
            "score": self.score,
            "by_content": dict(self.by_content),
            "tags": list(self.tags),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ContentEngagement:
        """Rebuild from :meth:`to_dict` output (errors name the key path).

        Examples
        --------
        >>> ContentEngagement.from_dict({"profile_id": "p", "score": 1.0,
        ...     "by_content": {"c1": 1.0}, "tags": []}).by_content["c1"]
        1.0
        """
        return read_form(cls, data)


# ----------------------------------------------------------------------------- the kernel
@attrs.frozen
class _Columns:
    """Engagement events as columns: profile and content codes into their ids sorted as text,
    action codes, seconds and UTC microseconds."""

    profile: NDArray[np.int64]
    profile_ids: NDArray[Any]
    content: NDArray[np.int64]
    content_ids: NDArray[Any]
    action: NDArray[np.int64]
    seconds: NDArray[np.float64]
    micros: NDArray[np.int64]


@attrs.frozen
class _Pairs:
    """One row per (profile, content) engaged, sorted by profile then content (as text)."""

    profile: NDArray[Any]
    content: NDArray[Any]
    events: NDArray[np.int64]
    score: NDArray[np.float64]
    tagged: NDArray[np.bool_]


def _items(items: Any) -> dict[str, ContentItem]:
    records = validate_records(ContentItem, items, field="items")
    out: dict[str, ContentItem] = {}
    for i, item in enumerate(records):
        if item.content_id in out:
            raise DataError(
                f"items lists content {item.content_id!r} twice (row {i}); give each item once",
                field="items",
                rows=(i,),
            )
        out[item.content_id] = item
    return out


def _kernel(
    cols: _Columns, items: dict[str, ContentItem], as_of: dt.datetime, cfg: ContentConfig
) -> _Pairs:
    """Scores per (profile, content): the one computation of both faces."""
    unknown = np.array([c not in items for c in cols.content_ids.tolist()], dtype=bool)
    if len(cols.content) and unknown[cols.content].any():
        rows = np.flatnonzero(unknown[cols.content])
        raise DataError(
            f"engagements name content not among the items: "
            f"{describe_rows(rows, cols.content_ids[cols.content[rows]].tolist())}; pass every "
            "item engaged with",
            field="content_id",
            rows=tuple(int(r) for r in rows[:5]),
        )
    a_us = micros(as_of)
    late = cols.micros > a_us
    if late.any():
        rows = np.flatnonzero(late)
        raise DataError(
            f"engagements after as_of={as_of.isoformat()} at "
            f"{describe_rows(rows, [str(r) for r in rows])}; score as of a later moment",
            field="at",
            rows=tuple(int(r) for r in rows[:5]),
        )
    minutes = np.minimum(cols.seconds / 60.0, cfg.max_minutes)
    age_days = (a_us - cols.micros) / 1e6 / _SECONDS_PER_DAY
    contrib = (cfg.action_weights()[cols.action] + cfg.minute_weight * minutes) * decay(
        age_days, cfg.half_life_days
    )
    # one canonical order -- by pair, then by contribution -- so that the sums do not depend on
    # the order events come in (equal contributions may swap places without changing a bit)
    pair = cols.profile * (int(cols.content.max(initial=0)) + 1) + cols.content
    order = np.argsort(contrib)  # equal values are equal bits: their order is irrelevant
    order = order[np.argsort(pair[order], kind="stable")]
    prof, cont, contrib = cols.profile[order], cols.content[order], contrib[order]
    new = np.ones(len(prof), dtype=bool)
    new[1:] = (prof[1:] != prof[:-1]) | (cont[1:] != cont[:-1])
    starts = np.flatnonzero(new)
    score = np.add.reduceat(contrib, starts) if len(starts) else np.zeros(0)
    return _Pairs(
        profile=cols.profile_ids[prof[starts]],
        content=cols.content_ids[cont[starts]],
        events=np.diff(np.append(starts, len(prof))).astype(np.int64),
        score=np.asarray(score, dtype=np.float64),
        tagged=np.asarray(score >= cfg.tag_threshold, dtype=bool),
    )


def _config(config: ContentConfig | None) -> ContentConfig:
    return ContentConfig() if config is None else check_instance(config, ContentConfig, "config")


# ----------------------------------------------------------------------------- record face
def content_engagement(
    items: Any,
    engagements: Any,
    *,
    as_of: dt.datetime,
    config: ContentConfig | None = None,
) -> dict[str, ContentEngagement]:
    """Engagement score, per-item scores and auto-tags of every profile that engaged.

    Parameters
    ----------
    items:
        :class:`ContentItem` records (or mappings).
    engagements:
        :class:`Engagement` records (or mappings), in any order; none after ``as_of``.
    as_of:
        The moment the scores are for (timezone-aware).
    config:
        Weights, half-life and tag threshold (:class:`ContentConfig`).

    Returns
    -------
    dict
        Profile id -> :class:`ContentEngagement`, sorted by profile id.

    Raises
    ------
    DataError
        An engagement names an unknown item or comes after ``as_of``.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 31, tzinfo=dt.timezone.utc)
    >>> item = ContentItem(content_id="a", kind="article", title="A", tags=("spring",))
    >>> ev = [Engagement(profile_id="p", content_id="a", action="share",
    ...                  at=t - dt.timedelta(days=30))]
    >>> r = content_engagement([item], ev, as_of=t)["p"]
    >>> r.score, r.tags  # 3 halved after one half-life: below the threshold of 3
    (1.5, ())
    """
    moment = aware(as_of, "as_of")
    cfg = _config(config)
    catalog = _items(items)
    records = validate_records(Engagement, engagements, field="engagements")
    p_codes, p_ids = _text_codes([e.profile_id for e in records])
    c_codes, c_ids = _text_codes([e.content_id for e in records])
    cols = _Columns(
        profile=p_codes,
        profile_ids=p_ids,
        content=c_codes,
        content_ids=c_ids,
        action=np.array([ACTIONS.index(e.action) for e in records], dtype=np.int64),
        seconds=np.array([e.duration_seconds or 0.0 for e in records], dtype=np.float64),
        micros=np.array([micros(e.at) for e in records], dtype=np.int64),
    )
    return _by_profile(_kernel(cols, catalog, moment, cfg), catalog)


def _text_codes(ids: list[str]) -> tuple[NDArray[np.int64], NDArray[Any]]:
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    uniques, inverse = np.unique(np.array(ids, dtype=object), return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), uniques


def _by_profile(pairs: _Pairs, items: dict[str, ContentItem]) -> dict[str, ContentEngagement]:
    out: dict[str, ContentEngagement] = {}
    rows = zip(pairs.profile.tolist(), pairs.content.tolist(), pairs.score.tolist(),
               pairs.tagged.tolist(), strict=True)  # fmt: skip
    grouped: dict[str, list[tuple[str, float, bool]]] = {}
    for pid, cid, score, tagged in rows:
        grouped.setdefault(pid, []).append((cid, score, tagged))
    for pid, entries in grouped.items():
        tags = sorted({t for cid, _, tagged in entries if tagged for t in items[cid].tags})
        out[pid] = ContentEngagement(
            profile_id=pid,
            score=float(sum(score for _, score, _ in entries)),
            by_content={cid: score for cid, score, _ in entries},
            tags=tuple(tags),
        )
    return out


def apply_content_tags(
    profile: Profile,
    engagement: ContentEngagement,
    *,
    at: dt.datetime,
    catalog: TagCatalog | None = None,
) -> tuple[Profile, list[TagChange]]:
    """Put a profile's content auto-tags on it (source ``rule``, assigned by ``content_radar``).

    Tags the profile already has are left as they are.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> radar = ContentEngagement("p", 4.0, {"c": 4.0}, ("skincare",))
    >>> p, changes = apply_content_tags(Profile(profile_id="p"), radar, at=t)
    >>> sorted(p.tag_ids), p.tags[0].source
    (['skincare'], 'rule')
    """
    check_instance(profile, Profile, "profile")
    check_instance(engagement, ContentEngagement, "engagement")
    moment = aware(at, "at")
    if engagement.profile_id != profile.profile_id:
        raise ArgumentError(
            f"engagement belongs to profile {engagement.profile_id!r}, not {profile.profile_id!r}",
            field="engagement",
        )
    changes: list[TagChange] = []
    new = profile
    for tag in engagement.tags:
        if tag in new.tag_ids:
            continue
        new, ch = add_tag(
            new, tag, at=moment, source="rule", assigned_by="content_radar", catalog=catalog
        )
        changes.extend(ch)
    return new, changes


# ----------------------------------------------------------------------------- table face
def content_engagement_table(
    items: Any,
    engagements: Any,
    *,
    as_of: dt.datetime,
    config: ContentConfig | None = None,
    profile: str = "profile_id",
    content: str = "content_id",
    action: str = "action",
    time: str = "at",
    duration: str = "duration_seconds",
    tz: str | None = None,
) -> Any:
    """:func:`content_engagement` over an event table, one row per profile and item.

    Parameters
    ----------
    items:
        :class:`ContentItem` records (or mappings).
    engagements:
        A table (pandas, polars, pyarrow, or a mapping of columns) of engagement events.
    as_of, config:
        As for :func:`content_engagement`.
    profile, content, action, time, duration:
        Column names; the ``duration`` column is optional (nulls are no duration).
    tz:
        The timezone of naive timestamps (aware ones keep their own).

    Returns
    -------
    table
        Columns ``profile_id, content_id, events, score, tagged`` (sorted by profile, then
        item): the per-item scores of :func:`content_engagement`, and whether the item's tags
        became auto-tags. A profile's score is the sum of its rows.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    >>> item = ContentItem(content_id="a", kind="link", title="A", tags=("spring",))
    >>> ev = {"profile_id": ["p", "p"], "content_id": ["a", "a"], "action": ["open", "share"],
    ...       "at": ["2024-05-01T00:00:00+00:00"] * 2}
    >>> out = content_engagement_table([item], ev, as_of=t)
    >>> out["score"].tolist(), out["tagged"].tolist()
    ([4.0], [True])
    """
    moment = aware(as_of, "as_of")
    cfg = _config(config)
    catalog = _items(items)
    tbl = read_table(engagements, name="engagements")
    tbl.require(profile, content, action, time)
    p_codes, p_ids = _table_codes(tbl, profile)
    c_codes, c_ids = _table_codes(tbl, content)
    a_codes, a_ids = _table_codes(tbl, action)
    lookup = np.array([ACTIONS.index(a) if a in ACTIONS else -1 for a in a_ids.tolist()])
    codes = lookup[a_codes].astype(np.int64) if len(a_codes) else a_codes
    if (codes < 0).any():
        rows = np.flatnonzero(codes < 0)
        raise DataError(
            f"column {action!r} holds {describe_rows(rows, a_ids[a_codes[rows]].tolist())}; "
            f"accepted: {', '.join(map(repr, ACTIONS))}",
            field=action,
            rows=tuple(int(r) for r in rows[:5]),
        )
    if duration in tbl.columns:
        secs = tbl.numbers(duration, allow_null=True, min_value=0.0)
        secs = np.where(np.isnan(secs), 0.0, secs)
        untimed = (secs > 0) & ~np.isin(codes, [ACTIONS.index(a) for a in _TIMED])
        if untimed.any():
            rows = np.flatnonzero(untimed)
            raise DataError(
                f"column {duration!r} gives a duration to a share or forward at "
                f"{describe_rows(rows, secs[rows].tolist())}; durations go on open or view",
                field=duration,
                rows=tuple(int(r) for r in rows[:5]),
            )
    else:
        secs = np.zeros(tbl.n_rows, dtype=np.float64)
    stamps = tbl.timestamps(time, tz=tz)
    if stamps.tz is None and tbl.n_rows:
        raise DataError(
            f"column {time!r} holds calendar dates; engagements need timestamps", field=time
        )
    wall = stamps.values.astype("datetime64[us]").astype(np.int64)
    cols = _Columns(
        profile=p_codes,
        profile_ids=p_ids,
        content=c_codes,
        content_ids=c_ids,
        action=codes,
        seconds=secs,
        micros=utc_micros(wall, stamps.tz or "UTC"),
    )
    pairs = _kernel(cols, catalog, moment, cfg)
    return tbl.result(
        {
            "profile_id": pairs.profile,
            "content_id": pairs.content,
            "events": pairs.events,
            "score": pairs.score,
            "tagged": pairs.tagged,
        }
    )


def _table_codes(tbl: Any, column: str) -> tuple[NDArray[np.int64], NDArray[Any]]:
    if tbl.n_rows == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    codes, uniques = tbl.factorize(column)
    return sorted_codes(codes, uniques)
