"""Bad-input corpus of the B2B half: every public function of ``clientmodel.funnel`` and
``clientmodel.accounts`` is called with one argument replaced by junk; the answer is a library
error (a ``ClientModelError``) or a normal result, never a leaked ``TypeError``/``KeyError``/...
"""

from __future__ import annotations

import datetime as dt
import inspect
import warnings

import pytest

import clientmodel.accounts as accounts_api
import clientmodel.funnel as funnel_api
from clientmodel.datasets.accounts import make_accounts
from clientmodel.datasets.deals import make_deals
from clientmodel.errors import ClientModelError

_DATA = make_deals(60, seed=1)
_GRAPH = make_accounts(n_accounts=2, seed=1).graph()
_GOOD = {
    "deals": list(_DATA.deals),
    "deal": _DATA.deals[0],
    "pipeline": _DATA.pipeline,
    "as_of": _DATA.as_of,
    "graph": _GRAPH,
    "at": dt.datetime(2024, 12, 31, tzinfo=dt.timezone.utc),
    "events": list(_DATA.deals),
    "history": list(_DATA.deals),
}
_JUNK = [5, "x", None, [5], {"a": 1}, float("nan"), -1, dt.datetime(2024, 1, 1)]


def _cases():
    for module in (funnel_api, accounts_api):
        for name in module.__all__:
            fn = getattr(module, name)
            if not inspect.isfunction(fn):
                continue
            params = [
                p
                for p in inspect.signature(fn).parameters.values()
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            ]
            needed = [p for p in params if p.default is inspect.Parameter.empty]
            if any(p.name not in _GOOD for p in needed):
                continue  # needs arguments this corpus cannot make up
            for p in params:
                yield pytest.param(fn, params, p.name, id=f"{name}-{p.name}")


@pytest.mark.parametrize(("fn", "params", "target"), list(_cases()))
def test_junk_argument_gives_a_library_error(fn, params, target):
    for junk in _JUNK:
        args, kwargs = [], {}
        for p in params:
            if p.name == target:
                value = junk
            elif p.default is inspect.Parameter.empty:
                value = _GOOD[p.name]
            else:
                continue
            if p.kind == p.POSITIONAL_OR_KEYWORD and p.default is inspect.Parameter.empty:
                args.append(value)
            else:
                kwargs[p.name] = value
        message = "ok"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn(*args, **kwargs)
        except ClientModelError as err:
            message = str(err)
        assert message  # a library error carries a message a person can read
