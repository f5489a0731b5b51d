"""A 40-line scoring service: clientmodel behind FastAPI, with its errors as 422 responses.

Run it with ``uvicorn scoring_service:app`` (uvicorn is not a clientmodel dependency); run this
file directly to call it once through FastAPI's TestClient and print the answers.

* ``POST /summary``: a purchase log (rows as JSON objects) -> the BTYD customer summary.
* ``POST /p_alive``: a fitted model's JSON (``BGNBD.to_dict()``) and summary rows -> P(alive).
* Any ``ClientModelError`` (bad data, a bad argument) becomes HTTP 422 with the error's stable
  ``code``, the ``field`` at fault, the first offending ``rows`` and the message.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from clientmodel.errors import ClientModelError
from clientmodel.ltv.contract import model_from_dict
from clientmodel.transactions import summarize

app = FastAPI(title="clientmodel scoring")


class SummaryRequest(BaseModel):
    rows: list[dict[str, Any]] = Field(description="purchases: customer_id, timestamp, amount")
    as_of: str = Field(description="end of observation, ISO 8601 with its offset")
    unit: str = Field("W", description="time unit of the summary: D, W or M")


class ScoreRequest(BaseModel):
    model: dict[str, Any] = Field(description="a fitted transaction model's to_dict()")
    rows: list[dict[str, Any]] = Field(description="summary rows: frequency, recency, T")


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    names = list(rows[0]) if rows else []
    return {name: [row.get(name) for row in rows] for name in names}


@app.exception_handler(ClientModelError)
async def _library_error(request: Request, exc: ClientModelError) -> JSONResponse:
    return JSONResponse(status_code=422, content=exc.to_dict())


@app.post("/summary")
def summary(req: SummaryRequest) -> dict[str, list[Any]]:
    out = summarize(_columns(req.rows), as_of=req.as_of, unit=req.unit, amount="amount")
    return {k: [v.isoformat() if hasattr(v, "isoformat") else v for v in out[k].tolist()]
            for k in ("customer_id", "frequency", "recency", "T")}  # fmt: skip


@app.post("/p_alive")
def p_alive(req: ScoreRequest) -> dict[str, list[float]]:
    model = model_from_dict(req.model)
    return {"p_alive": [float(p) for p in model.p_alive(_columns(req.rows))]}


if __name__ == "__main__":
    from fastapi.testclient import TestClient

    from clientmodel.ltv import BGNBD

    client = TestClient(app)
    log = [
        {"customer_id": "a", "timestamp": "2024-01-02T10:00:00+08:00", "amount": 30.0},
        {"customer_id": "a", "timestamp": "2024-02-20T18:30:00+08:00", "amount": 12.5},
        {"customer_id": "b", "timestamp": "2024-01-15T09:00:00+08:00", "amount": 80.0},
    ]
    got = client.post("/summary", json={"rows": log, "as_of": "2024-03-31T23:59:59+08:00"})
    print("summary:", got.status_code, got.json())
    model = BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426).to_dict()
    names = ("frequency", "recency", "T")
    columns = [got.json()[k] for k in names]
    rows = [dict(zip(names, v, strict=True)) for v in zip(*columns, strict=True)]
    print("p_alive:", client.post("/p_alive", json={"model": model, "rows": rows}).json())
    bad = client.post("/summary", json={"rows": log, "as_of": "2024-01-10T00:00:00+08:00"})
    print("rows after as_of:", bad.status_code, bad.json()["code"], bad.json()["field"])
