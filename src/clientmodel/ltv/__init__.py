"""Lifetime value and churn: the buy-till-you-die family of models, spend models and CLV."""

from clientmodel.ltv._fitting import FitReport
from clientmodel.ltv.bgbb import BGBB
from clientmodel.ltv.bgnbd import BGNBD
from clientmodel.ltv.clv import clv, clv_table, discounted_purchases
from clientmodel.ltv.gamma_gamma import GammaGamma
from clientmodel.ltv.mbgnbd import MBGNBD
from clientmodel.ltv.pareto_nbd import ParetoNBD
from clientmodel.ltv.sbg import ShiftedBetaGeometric

__all__ = [
    "BGBB",
    "BGNBD",
    "MBGNBD",
    "FitReport",
    "GammaGamma",
    "ParetoNBD",
    "ShiftedBetaGeometric",
    "clv",
    "clv_table",
    "discounted_purchases",
]
