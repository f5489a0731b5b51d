"""Key arrays shared between versions of a resolution (``identity._append``): an addition onto the
newest version writes past the old keys in place; any other addition copies; no version ever
sees another's keys."""

from __future__ import annotations

import threading

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientmodel.identity import add_records, resolve
from clientmodel.identity._append import appended, with_room

from .test_incremental import split_scenarios


def test_the_newest_view_grows_in_place_and_old_views_do_not_change() -> None:
    first = with_room(np.array([1, 2, 3]))
    second = appended(first, np.array([4, 5]))
    assert np.shares_memory(first, second)  # no copy of the old items
    assert first.tolist() == [1, 2, 3]
    assert second.tolist() == [1, 2, 3, 4, 5]
    branch = appended(first, np.array([9]))  # first is no longer the newest: a copy
    assert not np.shares_memory(first, branch)
    assert branch.tolist() == [1, 2, 3, 9]
    assert second.tolist() == [1, 2, 3, 4, 5]


def test_growing_past_the_room_copies_once_and_keeps_everything() -> None:
    values = with_room(np.array(["a"], dtype=object))
    for i in range(200):
        values = appended(values, np.array([f"v{i}"], dtype=object))
    assert values.tolist() == ["a", *[f"v{i}" for i in range(200)]]


def test_a_plain_array_or_another_dtype_is_copied() -> None:
    plain = np.array([1, 2])
    grown = appended(plain, np.array([3]))
    assert grown.tolist() == [1, 2, 3]
    assert plain.tolist() == [1, 2]
    mixed = appended(with_room(np.array([1, 2])), np.array([0.5]))
    assert mixed.dtype == np.float64
    assert mixed.tolist() == [1.0, 2.0, 0.5]


def test_two_threads_adding_onto_one_version_each_get_their_own_items() -> None:
    base = with_room(np.arange(1000))
    out: dict[int, np.ndarray] = {}

    def add(i: int) -> None:
        out[i] = appended(base, np.full(10, -i))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, got in out.items():
        assert got[:1000].tolist() == list(range(1000))
        assert got[1000:].tolist() == [-i] * 10


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(split_scenarios(), st.data())
def test_chains_and_branches_of_additions_equal_resolving_everything(scenario, data) -> None:
    """Resolutions built by adding onto one version twice (a branch: the second copies) and onto
    an added one (a chain: in place) each equal resolving their records from scratch, and the
    version added onto is unchanged."""
    old, new, config = scenario
    cut = data.draw(st.integers(0, len(new)))
    first, second = new[:cut], new[cut:]
    base = resolve(old, config)
    chained = add_records(add_records(base, first), second)
    branched = add_records(base, second)
    assert chained == resolve(old + new, config)
    assert branched == resolve(old + second, config)
    assert base == resolve(old, config)


def test_an_addition_onto_a_fresh_resolution_does_not_copy_its_keys() -> None:
    base = resolve([{"record_id": "a", "identifiers": [("email", "x@y.io")]}])
    more = add_records(base, [{"record_id": "b", "identifiers": [("phone", "+8613800000001")]}])
    for name in ("key_kind", "key_scope", "key_scope_code", "key_value", "key_hashed"):
        assert np.shares_memory(getattr(base._prep, name), getattr(more._prep, name)), name
    assert base._prep.key_value.tolist() == ["x@y.io"]
    assert more._prep.key_value.tolist() == ["x@y.io", "+8613800000001"]
    assert more.profile_of("b") == "b"
    assert base.n_records == 1
