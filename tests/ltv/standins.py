"""Hand-written models for tests: they keep the contract by subclassing it.

What a stand-in does not need raises. A leading underscore in the class name keeps a stand-in
out of the model registry (tests import them under plain aliases).
"""

from __future__ import annotations

import numpy as np

from clientmodel.ltv.contract import TransactionModel


class _StandIn(TransactionModel):
    def _unused(self, *args, **kwargs):
        raise NotImplementedError

    p_alive = expected_purchases = expected_purchases_new = _unused
    p_purchases = p_purchases_new = simulate = log_likelihood_of = _unused

    @classmethod
    def _likelihood(cls, summary, *, weights, columns):
        raise NotImplementedError

    def expected_purchases_path(self, summary, times, *, columns=None):
        return np.stack(
            [np.atleast_1d(self.expected_purchases(summary, float(t))) for t in times], axis=1
        )


StandIn = _StandIn
