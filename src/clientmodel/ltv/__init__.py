"""Lifetime value and churn: the buy-till-you-die family of models, spend models and CLV.

Every model keeps one contract (:mod:`clientmodel.ltv.contract`), checked by
:func:`clientmodel.ltv.checks.check_model`.
"""

from clientmodel.ltv.bgbb import BGBB
from clientmodel.ltv.bgnbd import BGNBD
from clientmodel.ltv.clv import clv, clv_table, discounted_purchases
from clientmodel.ltv.contract import (
    RetentionModel,
    SpendModel,
    TransactionModel,
    model_classes,
    model_from_dict,
)
from clientmodel.ltv.covariates import CovariateModel
from clientmodel.ltv.dynamic_covariates import DynamicCovariateModel, fit_dynamic_covariates
from clientmodel.ltv.gamma_gamma import GammaGamma
from clientmodel.ltv.ggompertz_nbd import GGompertzNBD
from clientmodel.ltv.intervals import (
    PredictionIntervals,
    prediction_interval_table,
    prediction_intervals,
)
from clientmodel.ltv.mbgnbd import MBGNBD
from clientmodel.ltv.newcustomer import new_customer_purchases
from clientmodel.ltv.pareto_nbd import ParetoNBD
from clientmodel.ltv.report import FitReport
from clientmodel.ltv.sbg import ShiftedBetaGeometric

__all__ = [
    "BGBB",
    "BGNBD",
    "MBGNBD",
    "CovariateModel",
    "DynamicCovariateModel",
    "FitReport",
    "GGompertzNBD",
    "GammaGamma",
    "ParetoNBD",
    "PredictionIntervals",
    "RetentionModel",
    "ShiftedBetaGeometric",
    "SpendModel",
    "TransactionModel",
    "clv",
    "clv_table",
    "discounted_purchases",
    "fit_dynamic_covariates",
    "model_classes",
    "model_from_dict",
    "new_customer_purchases",
    "prediction_interval_table",
    "prediction_intervals",
]
