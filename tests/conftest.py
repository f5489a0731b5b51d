"""Shared test settings.

Hypothesis runs derandomized by default so that a landing never hinges on a lucky draw; run
``pytest --hypothesis-profile=explore`` to search with fresh random examples (and more of them).
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("default", derandomize=True, deadline=None)
settings.register_profile("explore", derandomize=False, deadline=None, max_examples=500)
settings.load_profile("default")
