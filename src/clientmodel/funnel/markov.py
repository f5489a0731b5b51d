r"""The funnel as an absorbing Markov chain: win probability, steps and days to close.

Each deal's stage history is a path of a Markov chain whose open stages are *transient* and whose
won/lost stages are *absorbing*. From the observed moves (counts :math:`c_{ij}`) the transition
probabilities are the maximum-likelihood estimates :math:`p_{ij} = c_{ij} / \sum_k c_{ik}` (a deal
still open at ``as_of`` contributes no move out of its current stage). Order the states transient
first, so that

.. math:: P = \begin{pmatrix} Q & R \\ 0 & I \end{pmatrix}.

Then (Kemeny & Snell 1960, *Finite Markov Chains*, ch. III) the fundamental matrix
:math:`N = (I - Q)^{-1}` holds the expected number of visits to each transient state, the
absorption probabilities are :math:`B = N R`, the expected number of stage visits before closing
is :math:`t = N \mathbf{1}`, and with mean sojourn times :math:`m` (days per visit) the expected
days to close are :math:`N m`. The win probability from a stage is the sum of :math:`B` over the
won states. Reopened deals (moves out of a closed stage) are ignored: the chain treats closing as
final.

Sojourn means are estimated with censoring (total days in the stage / visits that ended), see
:mod:`clientmodel.funnel.history`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from clientmodel._validation import (
    array_reader,
    boundary,
    check_choice,
    check_number,
    check_sequence,
    check_text,
    read_form,
)
from clientmodel.errors import ArgumentError, DataError
from clientmodel.funnel._events import Events, load
from clientmodel.funnel.history import _durations_by_stage
from clientmodel.funnel.models import Pipeline

__all__ = ["AbsorbingChain", "fit_chain", "solve_chain", "transition_counts"]

Kind = Literal["open", "won", "lost"]
#: The kinds of state: transient (open) stages and the absorbing won/lost ones.
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
_WON: tuple[str, ...] = ("won",)
_LOST: tuple[str, ...] = ("lost",)


def _same(a: Any, b: Any) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


_ARRAY_EQ = attrs.cmp_using(eq=_same)


def _arr(value: Any) -> NDArray[np.float64]:
    # A read-only copy: a frozen chain shares no writable array with its caller.
    out = np.array(value, dtype=np.float64)
    out.setflags(write=False)
    return out


def _floats(value: Any, field: str) -> NDArray[np.float64]:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ArgumentError(f"{field} must hold numbers; got {value!r}", field=field) from None


@attrs.frozen
class AbsorbingChain:
    """A solved absorbing chain over a pipeline's stages.

    Attributes
    ----------
    states:
        Every stage id, transient (open) stages first in funnel order, then absorbing ones.
    kinds:
        ``"open"``, ``"won"`` or ``"lost"`` for each state.
    matrix:
        The transition matrix :math:`P` (rows sum to 1; absorbing rows are unit rows).
    counts:
        The observed move counts behind ``matrix`` (zeros when solved from a given matrix).
    sojourn_days:
        Mean days per visit of each transient state (NaN when unknown).
    fundamental:
        :math:`N = (I - Q)^{-1}` (transient x transient).
    absorption:
        :math:`B = N R` (transient x absorbing).
    expected_steps:
        :math:`N \\mathbf 1`, stage visits until closing, per transient state.
    expected_days:
        :math:`N m`, days until closing, per transient state (NaN without sojourn times).

    Examples
    --------
    >>> chain = solve_chain(["a", "won", "lost"], [[0, .5, .5], [0, 1, 0], [0, 0, 1]],
    ...                     won=["won"], lost=["lost"], sojourn_days=[4.0])
    >>> chain.win_probability("a"), float(chain.expected_days[0])
    (0.5, 4.0)
    """

    states: tuple[str, ...]
    kinds: tuple[Kind, ...]
    matrix: NDArray[np.float64] = attrs.field(converter=_arr, eq=_ARRAY_EQ)
    counts: NDArray[np.float64] = attrs.field(converter=_arr, eq=_ARRAY_EQ)
    sojourn_days: NDArray[np.float64] = attrs.field(converter=_arr, eq=_ARRAY_EQ)
    # solved from the fields above on construction
    fundamental: NDArray[np.float64] = attrs.field(init=False, eq=False)
    absorption: NDArray[np.float64] = attrs.field(init=False, eq=False)
    expected_steps: NDArray[np.float64] = attrs.field(init=False, eq=False)
    expected_days: NDArray[np.float64] = attrs.field(init=False, eq=False)
    _by_stage: dict[str, float] = attrs.field(init=False, eq=False, repr=False)

    _FORM: ClassVar[dict[str, Any]] = {
        "matrix": array_reader(ndim=2, minimum=0, maximum=1),
        "counts": array_reader(ndim=2, minimum=0),
        "sojourn_days": array_reader(missing=True, minimum=0),
    }

    def __attrs_post_init__(self) -> None:
        # Construction and from_dict share the invariants; then the linear algebra.
        name = "AbsorbingChain"
        n, k = _check_layout(self.states, self.kinds)
        p = self.matrix
        if p.shape != (n, n):
            raise ArgumentError(
                f"{name}.matrix must be {n}x{n} (a row and a column per state), got {p.shape}",
                field=f"{name}.matrix",
            )
        for i, row in enumerate(p):
            where = f"{name}.matrix[{i}]"
            if not np.isfinite(row).all() or (row < 0).any() or (row > 1).any():
                raise ArgumentError(
                    f"{where} must hold probabilities in [0, 1], got {row.tolist()}", field=where
                )
            if i < k and not abs(row.sum() - 1.0) <= 1e-9:
                raise ArgumentError(
                    f"{where} (state {self.states[i]!r}) must sum to 1, got {row.sum():.12g}",
                    field=where,
                )
            if i >= k and not (row[i] == 1.0 and row.sum() == 1.0):
                raise ArgumentError(
                    f"{where} (closed state {self.states[i]!r}) must be a unit row: closing is "
                    f"final; got {row.tolist()}",
                    field=where,
                )
        cnt = self.counts
        if cnt.shape != (n, n) or not np.isfinite(cnt).all() or (cnt < 0).any():
            raise ArgumentError(
                f"{name}.counts must be a {n}x{n} matrix of non-negative finite move counts, "
                f"got shape {cnt.shape}",
                field=f"{name}.counts",
            )
        soj = self.sojourn_days
        if soj.shape != (k,) or (soj < 0).any() or np.isinf(soj).any():
            raise ArgumentError(
                f"{name}.sojourn_days must hold one non-negative number (or NaN when unknown) "
                f"per open state ({k}), got {soj.tolist()}",
                field=f"{name}.sojourn_days",
            )
        eye = np.eye(k)
        try:
            fundamental = np.linalg.solve(eye - p[:k, :k], eye)
        except np.linalg.LinAlgError:
            fundamental = np.full((k, k), np.inf)
        if not np.isfinite(fundamental).all() or (fundamental < -1e-9).any():
            raise ArgumentError(
                f"{name}.matrix has open states that never reach won or lost (I - Q is "
                "singular); check the matrix",
                field=f"{name}.matrix",
            )
        with np.errstate(invalid="ignore"):
            days = fundamental @ soj if not np.isnan(soj).any() else np.full(k, np.nan)
        for key, value in (
            ("fundamental", fundamental),
            ("absorption", fundamental @ p[:k, k:]),
            ("expected_steps", fundamental.sum(axis=1)),
            ("expected_days", days),
        ):
            object.__setattr__(self, key, _arr(value))
        # Per-record scoring looks stages up often: keep a plain dict of win probabilities.
        table = {
            s: (1.0 if k == "won" else 0.0) for s, k in zip(self.states, self.kinds, strict=True)
        }
        table.update(zip(self.transient, self.win_probabilities.tolist(), strict=True))
        object.__setattr__(self, "_by_stage", table)

    @property
    def transient(self) -> tuple[str, ...]:
        """The open (transient) stage ids."""
        return tuple(s for s, k in zip(self.states, self.kinds, strict=True) if k == "open")

    @property
    def absorbing(self) -> tuple[str, ...]:
        """The won/lost (absorbing) stage ids."""
        return tuple(s for s, k in zip(self.states, self.kinds, strict=True) if k != "open")

    @property
    def win_probabilities(self) -> NDArray[np.float64]:
        """Win probability from each transient stage (sum of ``absorption`` over won states)."""
        won = np.array(
            [k == "won" for k, s in zip(self.kinds, self.states, strict=True) if k != "open"]
        )
        return np.asarray(self.absorption[:, won].sum(axis=1), dtype=np.float64)

    @boundary
    def win_probability(self, stage: str) -> float:
        """Win probability of a deal now in ``stage`` (1 for won stages, 0 for lost ones).

        Examples
        --------
        >>> chain = solve_chain(["a", "won", "lost"], [[0, .2, .8], [0, 1, 0], [0, 0, 1]])
        >>> chain.win_probability("a"), chain.win_probability("won")
        (0.2, 1.0)
        """
        if stage not in self.states:
            raise ArgumentError(
                f"stage {stage!r} is not in the chain; states are {list(self.states)}",
                field="stage",
            )
        return self._by_stage[stage]

    @boundary
    def table(self) -> dict[str, NDArray[Any]]:
        """Per transient stage: ``win_probability``, ``expected_steps``, ``expected_days``.

        Examples
        --------
        >>> chain = solve_chain(["a", "won", "lost"], [[0, .2, .8], [0, 1, 0], [0, 0, 1]])
        >>> chain.table()["win_probability"].tolist()
        [0.2]
        """
        return {
            "stage": np.asarray(self.transient, dtype=object),
            "win_probability": self.win_probabilities,
            "expected_steps": self.expected_steps,
            "expected_days": self.expected_days,
        }

    @boundary
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe parameters (NaN sojourns become ``None``); rebuild with :meth:`from_dict`."""
        return {
            "states": list(self.states),
            "kinds": list(self.kinds),
            "matrix": self.matrix.tolist(),
            "counts": self.counts.tolist(),
            "sojourn_days": [None if np.isnan(v) else float(v) for v in self.sojourn_days],
        }

    @classmethod
    @boundary
    def from_dict(cls, data: Mapping[str, Any]) -> AbsorbingChain:
        """Rebuild a chain from :meth:`to_dict` output (re-solving the linear algebra).

        Examples
        --------
        >>> c = solve_chain(["a", "won", "lost"], [[0, .2, .8], [0, 1, 0], [0, 0, 1]])
        >>> AbsorbingChain.from_dict(c.to_dict()).win_probability("a")
        0.2
        """
        return read_form(cls, data)


def _check_layout(states: Sequence[str], kinds: Sequence[str]) -> tuple[int, int]:
    """``(states, open states)``: unique states, one kind each, open states first."""
    name = "AbsorbingChain"
    for i, s in enumerate(states):
        check_text(s, f"{name}.states[{i}]")
    if len(set(states)) != len(states):
        raise ArgumentError(
            f"{name}.states must be unique, got {list(states)}", field=f"{name}.states"
        )
    if len(kinds) != len(states):
        raise ArgumentError(
            f"{name}.kinds must have one kind per state ({len(states)}), got {len(kinds)}",
            field=f"{name}.kinds",
        )
    for i, kind in enumerate(kinds):
        check_choice(kind, f"{name}.kinds[{i}]", KINDS)
    k = list(kinds).count("open")
    if not 0 < k < len(kinds) or any(kind != "open" for kind in kinds[:k]):
        raise ArgumentError(
            f"{name}.kinds must list the open states first, then at least one won or lost "
            f"state; got {list(kinds)}",
            field=f"{name}.kinds",
        )
    return len(states), k


@boundary
def solve_chain(
    states: Sequence[str],
    matrix: Any,
    *,
    won: Sequence[str] = _WON,
    lost: Sequence[str] = _LOST,
    sojourn_days: Sequence[float] | NDArray[np.float64] | None = None,
    counts: Any = None,
) -> AbsorbingChain:
    """Solve an absorbing chain given its transition matrix.

    ``states`` names the rows/columns of ``matrix``; states in ``won``/``lost`` are absorbing
    (their rows are replaced by unit rows), the others transient. ``sojourn_days`` gives the mean
    days per visit of each transient state in the order they appear in ``states``.

    Examples
    --------
    >>> c = solve_chain(["a", "b", "won", "lost"],
    ...                 [[0, .5, .25, .25], [0, 0, .5, .5], [0, 0, 1, 0], [0, 0, 0, 1]])
    >>> round(c.win_probability("a"), 3), c.expected_steps.tolist()
    (0.5, [1.5, 1.0])
    """
    names = [str(s) for s in check_sequence(states, "states")]
    p = _floats(matrix, "matrix")
    n = len(names)
    if p.shape != (n, n):
        raise ArgumentError(
            f"matrix must be {n}x{n} for states {names}; got {p.shape}", field="matrix"
        )
    if len(set(names)) != n:
        raise ArgumentError(f"states must be unique; got {names}", field="states")
    kinds: list[Kind] = ["won" if s in won else "lost" if s in lost else "open" for s in names]
    t_idx = [i for i, k in enumerate(kinds) if k == "open"]
    a_idx = [i for i, k in enumerate(kinds) if k != "open"]
    if not t_idx or not a_idx:
        raise ArgumentError("a chain needs at least one open and one won/lost state")
    rows = p[t_idx]
    if (rows < 0).any() or not np.allclose(rows.sum(axis=1), 1.0, atol=1e-9):
        bad = [names[t_idx[i]] for i in np.flatnonzero(~np.isclose(rows.sum(axis=1), 1.0))]
        raise ArgumentError(
            f"rows of open states must be probabilities summing to 1; bad rows {bad}",
            field="matrix",
        )
    order = t_idx + a_idx
    full = p[np.ix_(order, order)].copy()
    k = len(t_idx)
    full[k:] = 0.0
    full[k:, k:] = np.eye(len(a_idx))
    if sojourn_days is None:
        soj = np.full(k, np.nan)
    else:
        soj = _floats(sojourn_days, "sojourn_days")
        if soj.shape != (k,):
            raise ArgumentError(
                f"sojourn_days needs one value per open state ({k}); got {soj.shape}",
                field="sojourn_days",
            )
    cnt = np.zeros((n, n)) if counts is None else _floats(counts, "counts")
    if cnt.shape != (n, n) or not np.isfinite(cnt).all() or (cnt < 0).any():
        raise ArgumentError(
            f"counts must be a {n}x{n} matrix of non-negative finite move counts (one row and "
            f"column per state), got shape {cnt.shape}",
            field="counts",
        )
    return AbsorbingChain(
        states=tuple(names[i] for i in order),
        kinds=tuple(kinds[i] for i in order),
        matrix=full,
        counts=cnt[np.ix_(order, order)],
        sojourn_days=soj,
    )


def _counts(ev: Events) -> NDArray[np.float64]:
    n = len(ev.layout.stages)
    same = ev.next_same()
    src = ev.stage[:-1][same[:-1]]
    dst = ev.stage[1:][same[:-1]]
    flat = np.bincount(src * n + dst, minlength=n * n).astype(np.float64)
    return flat.reshape(n, n)


@boundary
def transition_counts(
    events: Any,
    *,
    as_of: Any,
    pipeline: Pipeline | Sequence[str] | None = None,
    won: Sequence[str] = _WON,
    lost: Sequence[str] = _LOST,
    deal: str = "deal_id",
    stage: str = "stage",
    time: str = "entered_at",
    tz: str | None = None,
) -> Any:
    """Observed moves between stages up to ``as_of``: columns ``from_stage``, ``to_stage``,
    ``count`` (non-zero pairs only) in the caller's kind of table.

    Examples
    --------
    >>> ev = {"deal_id": ["a", "a", "b", "b"], "stage": ["lead", "won", "lead", "won"],
    ...       "entered_at": ["2024-01-01", "2024-01-05", "2024-01-02", "2024-01-09"]}
    >>> transition_counts(ev, as_of="2024-02-01")["count"].tolist()
    [2]
    """
    ev = load(
        events, pipeline=pipeline, won=won, lost=lost, as_of=as_of, deal=deal, stage=stage,
        time=time, tz=tz,
    )  # fmt: skip
    c = _counts(ev)
    i, j = np.nonzero(c)
    names = np.asarray(ev.layout.stages, dtype=object)
    return ev.result(
        {"from_stage": names[i], "to_stage": names[j], "count": c[i, j].astype(np.int64)}
    )


@boundary
def fit_chain(
    events: Any,
    *,
    as_of: Any,
    pipeline: Pipeline | Sequence[str] | None = None,
    smoothing: float = 0.0,
    won: Sequence[str] = _WON,
    lost: Sequence[str] = _LOST,
    deal: str = "deal_id",
    stage: str = "stage",
    time: str = "entered_at",
    tz: str | None = None,
) -> AbsorbingChain:
    """Estimate the absorbing chain from stage histories and solve it.

    ``smoothing`` adds a pseudo-count to every allowed move (the pipeline's graph edges, or every
    pair of distinct stages) out of each open stage, so rare stages still get a full row. Without
    it, an open stage that no deal has left raises a :class:`DataError`.

    Examples
    --------
    >>> from clientmodel.datasets.deals import make_deals
    >>> data = make_deals(400, seed=2)
    >>> chain = fit_chain(list(data.deals), as_of=data.as_of, pipeline=data.pipeline)
    >>> 0 < chain.win_probability("lead") < chain.win_probability("negotiation") < 1
    True
    """
    smoothing = check_number(smoothing, "smoothing", minimum=0)
    ev = load(
        events, pipeline=pipeline, won=won, lost=lost, as_of=as_of, deal=deal, stage=stage,
        time=time, tz=tz,
    )  # fmt: skip
    lay = ev.layout
    counts = _counts(ev)
    closed = lay.closed_mask
    counts[closed] = 0.0  # closing is final for the chain
    n = len(lay.stages)
    if smoothing > 0:
        if isinstance(pipeline, Pipeline):
            allowed = np.array(
                [[pipeline.allows(a, b) for b in lay.stages] for a in lay.stages], dtype=float
            )
        else:
            allowed = 1.0 - np.eye(n)
        allowed[closed] = 0.0
        counts = counts + smoothing * allowed
    totals = counts.sum(axis=1)
    open_idx = lay.open_idx
    empty = [lay.stages[i] for i in open_idx if totals[i] == 0]
    if empty:
        raise DataError(
            f"no deal has left open stage(s) {empty} by as_of, so their moves cannot be "
            "estimated; pass smoothing=1.0 (or more) or drop the stage from the pipeline",
            field=stage,
        )
    p = np.eye(n)
    p[open_idx] = counts[open_idx] / totals[open_idx, None]
    exposure, exits, _, _ = _durations_by_stage(ev)
    ex = exits[open_idx]
    sojourn = np.divide(exposure[open_idx], ex, out=np.full(len(open_idx), np.nan), where=ex > 0)
    return solve_chain(
        lay.stages,
        p,
        won=[s for s, k in zip(lay.stages, lay.kinds, strict=True) if k == "won"],
        lost=[s for s, k in zip(lay.stages, lay.kinds, strict=True) if k == "lost"],
        sojourn_days=sojourn,
        counts=counts,
    )
