"""Issue 18 tag defects: hand-given tags win in exclusive groups, expiry is honoured, limits."""

from __future__ import annotations

import datetime as dt

import pytest

from clientmodel.errors import DataError
from clientmodel.profile import Profile, TagCatalog, TagGroup, add_tag, apply

T = dt.datetime(2024, 5, 1, 9, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)
CATALOG = TagCatalog(groups=[TagGroup(group_id="tier", exclusive=True, tags=("silver", "gold"))])


def test_a_rule_never_replaces_a_hand_given_tag_in_an_exclusive_group():
    # Staff set 'silver' by hand; the rule for 'gold' holds, then stops holding. The docs say
    # rules never remove hand-given tags, so 'silver' must survive both folds.
    p, _ = add_tag(Profile(profile_id="p"), "silver", at=T, catalog=CATALOG, assigned_by="s1")
    p, changes = apply(p, [], as_of=T + DAY, rules={"gold": "n_events = 0"}, catalog=CATALOG)
    assert p.tag_ids == {"silver"}
    assert changes == []
    p, _ = apply(p, [], as_of=T + 2 * DAY, rules={"gold": "n_events > 0"}, catalog=CATALOG)
    assert p.tag_ids == {"silver"}


def test_a_rule_still_replaces_its_own_rule_tag():
    rules = {"gold": "n_events >= 1", "silver": "n_events = 0"}
    p, _ = apply(Profile(profile_id="p"), [], as_of=T, rules=rules, catalog=CATALOG)
    assert p.tag_ids == {"silver"}


def test_an_expired_tag_does_not_satisfy_has_tag_and_is_expired_by_folding():
    p, _ = add_tag(Profile(profile_id="p"), "trial", at=T, expires_at=T + DAY)
    rules = {"trial_user": 'has tag "trial"'}
    p2, changes = apply(p, [], as_of=T + 2 * DAY, rules=rules)
    assert "trial_user" not in p2.tag_ids
    assert "trial" not in p2.tag_ids
    assert [(c.action, c.tag) for c in changes] == [("expired", "trial")]
    # before expiry the rule holds
    p3, _ = apply(p, [], as_of=T + DAY / 2, rules=rules)
    assert {"trial", "trial_user"} <= p3.tag_ids


def test_tag_names_are_limited_to_thirty_characters_by_default():
    long = "a" * 31
    with pytest.raises(DataError, match="30"):
        add_tag(Profile(profile_id="p"), long, at=T)
    with pytest.raises(ValueError, match="30"):
        TagCatalog(groups=[TagGroup(group_id="g", tags=(long,))])
    roomy = TagCatalog(groups=[TagGroup(group_id="g", tags=(long,))], max_tag_length=64)
    p, _ = add_tag(Profile(profile_id="p"), long, at=T, catalog=roomy)
    assert p.tag_ids == {long}


def test_tags_per_group_limit_is_configurable():
    tags = tuple(f"t{i}" for i in range(4))
    with pytest.raises(ValueError, match="3 tags"):
        TagCatalog(groups=[TagGroup(group_id="g", tags=tags)], max_tags_per_group=3)
    assert len(TagCatalog(groups=[TagGroup(group_id="g", tags=tags)]).groups[0].tags) == 4
