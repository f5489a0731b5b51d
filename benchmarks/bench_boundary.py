"""What the boundary checks cost (issue 16).

1. ``@boundary`` on per-record calls: each public function is timed through its wrapper and
   through ``__wrapped__`` (the same function without the checks, what it cost before), on the
   same shuffled inputs, in the same run.
2. The one-kind-of-id check on a pandas ``object`` id column: ``Table.ids`` with the check
   against ``Table.ids`` with it switched off (what reading ids cost before).

    python benchmarks/bench_boundary.py [n]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from clientmodel import tables
from clientmodel.rules import evaluate
from clientmodel.segments import Segment
from clientmodel.tables import read_table


def best_of(fn: Callable[[], Any], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def per_call(name: str, wrapped: Callable[..., Any], calls: list[tuple[Any, ...]]) -> None:
    bare = wrapped.__wrapped__  # type: ignore[attr-defined]
    ours = best_of(lambda: [wrapped(*c) for c in calls])
    base = best_of(lambda: [bare(*c) for c in calls])
    n = len(calls)
    print(
        f"{name:<28} boundary {ours / n * 1e6:7.2f} us/call  bare {base / n * 1e6:7.2f} us/call"
        f"  ratio {ours / base:5.2f}  ({n} calls, shuffled)"
    )


def main(n: int = 20_000) -> None:
    rng = np.random.default_rng(0)
    segment = Segment("champions", r=(4, 5), f=(4, 5))
    scores = rng.integers(1, 6, size=(n, 3)).tolist()
    rng.shuffle(scores)
    per_call("Segment.covers", Segment.covers, [(segment, *s) for s in scores])

    records = [
        {"orders": int(o), "city": c}
        for o, c in zip(rng.integers(0, 9, n), rng.choice(["sh", "bj", "gz"], n), strict=True)
    ]
    rng.shuffle(records)
    rule = "orders >= 3 and city in ['sh', 'bj']"
    per_call("rules.evaluate (text rule)", evaluate, [(rule, r) for r in records[: n // 10]])

    rows = 10 * n
    ids = pd.Series(rng.choice([f"c{i}" for i in range(n)], rows), dtype=object)
    table = read_table(
        pd.DataFrame({"customer_id": ids.sample(frac=1.0, random_state=1).to_numpy()})
    )
    ours = best_of(lambda: table.ids("customer_id"))
    check = tables._check_one_id_type
    tables._check_one_id_type = lambda column, arr: None  # the reader as it was before
    try:
        base = best_of(lambda: table.ids("customer_id"))
    finally:
        tables._check_one_id_type = check
    print(
        f"{'Table.ids (object column)':<28} checked {ours * 1e3:7.2f} ms  "
        f"unchecked {base * 1e3:7.2f} ms"
        f"  ratio {ours / base:5.2f}  ({rows} rows, {n} distinct ids, shuffled)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
