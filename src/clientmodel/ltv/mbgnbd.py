"""The MBG/NBD model (Batislam, Denizel & Filiztekin 2007, "Empirical validation and comparison
of models for customer base analysis", IJRM 24(3)).

Like the BG/NBD, except that a customer may also drop out right after the *first* purchase (at
time 0), so a customer with no repeat purchase is not certainly alive. Purchase rates are
``Gamma(r, alpha)`` and dropout probabilities ``Beta(a, b)`` across customers.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from clientmodel.ltv._base import positive
from clientmodel.ltv._fitting import FitReport
from clientmodel.ltv.bgnbd import _BetaGeometricFamily

__all__ = ["MBGNBD"]


@attrs.frozen(kw_only=True)
class MBGNBD(_BetaGeometricFamily):
    """MBG/NBD model: BG/NBD with a possible dropout at time 0 (Batislam et al. 2007).

    The likelihood of a history ``(x, t_x, T)`` is::

        Gamma(r+x) alpha^r / Gamma(r) * [ B(a, b+x+1)/B(a, b) (alpha+T)^-(r+x)
                                          + B(a+1, b+x)/B(a, b) (alpha+t_x)^-(r+x) ]

    and ``P(alive) = 1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))**(r+x))``. Every method of
    :class:`~clientmodel.ltv.bgnbd.BGNBD` is available with the same meaning.

    Attributes
    ----------
    r, alpha:
        Shape and rate of the gamma distribution of purchase rates.
    a, b:
        Parameters of the beta distribution of the dropout probability.

    Examples
    --------
    >>> from clientmodel.ltv.mbgnbd import MBGNBD
    >>> m = MBGNBD(r=0.25, alpha=4.0, a=0.8, b=2.5)
    >>> round(m.p_alive({"frequency": 0, "recency": 0.0, "T": 30.0}), 4)
    0.6467
    """

    PARAMS: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    #: Published estimates, the example of the check suite (BTYDplus on CDNOW):
    EXAMPLE: ClassVar[dict[str, float]] = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    _SHIFT: ClassVar[int] = 1
    r: float = attrs.field(validator=positive)
    alpha: float = attrs.field(validator=positive)
    a: float = attrs.field(validator=positive)
    b: float = attrs.field(validator=positive)
    fit_report: FitReport | None = attrs.field(default=None, eq=False, repr=False)
