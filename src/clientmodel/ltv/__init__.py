"""Lifetime value and churn: the buy-till-you-die family of models, spend models and CLV."""

from clientmodel.ltv._fitting import FitReport
from clientmodel.ltv.bgnbd import BGNBD
from clientmodel.ltv.mbgnbd import MBGNBD
from clientmodel.ltv.pareto_nbd import ParetoNBD

__all__ = ["BGNBD", "MBGNBD", "FitReport", "ParetoNBD"]
