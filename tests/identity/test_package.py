"""clientmodel.identity is its own package; the old names stay importable from profile."""

from __future__ import annotations

import importlib

import pytest

import clientmodel.identity as identity
import clientmodel.profile as profile

MOVED = {
    "clientmodel.profile.identifiers": "clientmodel.identity.kinds",
    "clientmodel.profile.resolution": "clientmodel.identity.resolution",
    "clientmodel.profile.resolution_rules": "clientmodel.identity.config",
    "clientmodel.profile.resolution_results": "clientmodel.identity.results",
}


@pytest.mark.parametrize(("old", "new"), sorted(MOVED.items()))
def test_old_module_paths_export_the_same_objects(old, new):
    before, after = importlib.import_module(old), importlib.import_module(new)
    for name in after.__all__:
        assert getattr(before, name) is getattr(after, name), (old, name)


def test_profile_reexports_identity_names():
    for name in ("Identifier", "IdentifierKind", "hash_identifier", "is_blocked"):
        assert getattr(profile, name) is getattr(identity, name)
    assert set(identity.__all__) <= set(dir(identity))
