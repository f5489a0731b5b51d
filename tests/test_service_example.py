"""The example service (examples/scoring_service.py): library errors are 422 with code and field."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient

from clientmodel.ltv import BGNBD

_PATH = Path(__file__).parents[1] / "examples" / "scoring_service.py"
_SPEC = importlib.util.spec_from_file_location("scoring_service", _PATH)
assert _SPEC is not None
assert _SPEC.loader is not None
service = importlib.util.module_from_spec(_SPEC)
sys.modules["scoring_service"] = service  # FastAPI resolves the module's annotations by name
_SPEC.loader.exec_module(service)
CLIENT = TestClient(service.app)
LOG = [
    {"customer_id": "a", "timestamp": "2024-01-02T10:00:00+08:00", "amount": 30.0},
    {"customer_id": "a", "timestamp": "2024-02-20T18:30:00+08:00", "amount": 12.5},
    {"customer_id": "b", "timestamp": "2024-01-15T09:00:00+08:00", "amount": 80.0},
]
AS_OF = "2024-03-31T23:59:59+08:00"


def test_summary_by_hand():
    got = CLIENT.post("/summary", json={"rows": LOG, "as_of": AS_OF})
    assert got.status_code == 200
    body = got.json()
    assert body["customer_id"] == ["a", "b"]
    assert body["frequency"] == [1, 0]
    # a: 2024-01-02 -> 2024-02-20 is 49 days; b: 2024-01-15 -> 2024-03-31 is 76 days (in weeks)
    assert body["recency"] == [pytest.approx(49 / 7), 0.0]
    assert body["T"][1] == pytest.approx(76 / 7)


def test_p_alive_equals_the_model():
    model = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)
    rows = [{"frequency": 1, "recency": 7.0, "T": 12.7}, {"frequency": 0, "recency": 0.0, "T": 9.0}]
    got = CLIENT.post("/p_alive", json={"model": model.to_dict(), "rows": rows})
    assert got.status_code == 200
    expected = model.p_alive({k: [r[k] for r in rows] for k in ("frequency", "recency", "T")})
    assert got.json()["p_alive"] == pytest.approx(list(expected))


def test_library_errors_are_422_with_code_field_and_rows():
    got = CLIENT.post("/summary", json={"rows": LOG, "as_of": "2024-01-10T00:00:00+08:00"})
    assert got.status_code == 422
    body = got.json()
    assert body["code"] == "bad_data"
    assert body["field"] == "timestamp"
    assert body["rows"] == [1, 2]
    bad_model = CLIENT.post("/p_alive", json={"model": {"model": "Planet"}, "rows": []})
    assert bad_model.status_code == 422
    assert bad_model.json()["code"] == "bad_argument"
