"""Data to try the library on: the published yardsticks and seeded synthetic data with known truth.

* :mod:`~clientmodel.datasets.published`: the CDNOW purchase log and summary
  (:func:`load_cdnow`) and the donations histories (:func:`load_donations`), shipped in the
  wheel, with their provenance.
* Synthetic generators, each in its own module and taking a ``seed`` (the same seed gives the
  same data): :func:`make_transactions` (a BG/NBD + gamma-gamma purchase log),
  :func:`make_consumers` (a private-domain consumer base), :func:`make_deals` (a B2B pipeline)
  and :func:`make_accounts` (account graphs).
"""

from clientmodel.datasets.accounts import make_accounts
from clientmodel.datasets.consumers import make_consumers
from clientmodel.datasets.deals import make_deals
from clientmodel.datasets.published import CdnowData, data_path, load_cdnow, load_donations
from clientmodel.datasets.transactions import make_transactions

__all__ = [
    "CdnowData",
    "data_path",
    "load_cdnow",
    "load_donations",
    "make_accounts",
    "make_consumers",
    "make_deals",
    "make_transactions",
]
