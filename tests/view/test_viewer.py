"""Who may see what: nothing withheld from a viewer appears anywhere in the view, its repr, its
JSON or its flat record -- and the same test sees it when the viewer may (so it can fail)."""

from __future__ import annotations

import json
from typing import Any

from clientmodel.view import Viewer, customer_view, flatten

from .conftest import AS_OF, PHONE, SECRET_NOTE, SECRET_TAG

WITHHELD_FROM_S1 = (SECRET_NOTE, SECRET_TAG, PHONE, "13800138000", "dana@acme.com")


def _everything(scenario: dict[str, Any], viewer: Viewer) -> str:
    view = customer_view(
        "p_vip",
        as_of=AS_OF,
        viewer=viewer,
        profile=scenario["profiles"]["p_vip"],
        summary=scenario["summary"]["p_vip"],
        book=scenario["book"],
        links=scenario["links"],
        staff=scenario["staff"],
    )
    schema_dump = json.dumps(view.model_dump(mode="json"))
    return "\n".join(
        [view.model_dump_json(), schema_dump, repr(view), str(view), json.dumps(flatten(view))]
    )


def test_colleague_sees_no_private_tag_or_note_and_no_identifier(
    scenario: dict[str, Any],
) -> None:
    text = _everything(scenario, Viewer(staff_id="s1", roles=("sales", "manager")))
    for secret in WITHHELD_FROM_S1:
        assert secret not in text
    # s1's own note is there: the viewer sees their own relationship
    assert "asked about the spring collection" in text
    assert "+86****8000" in text


def test_owner_of_the_private_data_sees_it(scenario: dict[str, Any]) -> None:
    text = _everything(scenario, Viewer(staff_id="s2", roles=("sales",)))
    assert SECRET_NOTE in text
    assert SECRET_TAG in text
    assert "asked about the spring collection" not in text
    assert PHONE not in text


def test_privacy_role_sees_identifiers_but_not_private_notes(scenario: dict[str, Any]) -> None:
    text = _everything(scenario, Viewer(staff_id="s9", roles=("admin",)))
    assert PHONE in text
    assert "dana@acme.com" in text
    assert SECRET_NOTE not in text


def test_system_viewer_sees_nothing_personal(scenario: dict[str, Any]) -> None:
    text = _everything(scenario, Viewer())
    for secret in (*WITHHELD_FROM_S1, "asked about the spring collection"):
        assert secret not in text
