"""The two halves joined: person <-> contact links, the customer 360 view, the right moment to
reach out, next best actions with their reasons, and the loop back.

This is the one package that reads both the process half (:mod:`clientmodel.funnel`,
:mod:`clientmodel.accounts`) and the people half (:mod:`clientmodel.profile`,
:mod:`clientmodel.segments`, :mod:`clientmodel.ltv`); none of them imports it.
"""

from __future__ import annotations

from clientmodel.view.link import ContactIdentifiers, LinkRefusal, Links, PersonLink, link

__all__ = [
    "ContactIdentifiers",
    "LinkRefusal",
    "Links",
    "PersonLink",
    "link",
]
