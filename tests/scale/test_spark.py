"""Spark's ``mapInPandas`` with :func:`clientmodel.scoring.score_batches` (runs where pyspark
and Java are installed; pyspark is not a test dependency, see docs/scaling.md)."""

from __future__ import annotations

import functools
import shutil

import numpy as np
import pytest

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None:  # pragma: no cover
    pytest.skip("Spark needs Java", allow_module_level=True)

from clientmodel.ltv import BGNBD  # noqa: E402
from clientmodel.scoring import ScoringPlan, score_batches  # noqa: E402
from clientmodel.segments import LifecycleWindows  # noqa: E402
from clientmodel.transactions import summarize  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")


def test_map_in_pandas_scores_like_in_memory(log):
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    try:
        summary = summarize(log, as_of="2025-06-30", unit="W")
        plan = ScoringPlan(
            model=BGNBD.fit(summary), lifecycle=LifecycleWindows(), as_of="2025-06-30", tz="UTC"
        )
        frame = spark.createDataFrame(summary).repartition(3)
        schema = "customer_id string, p_alive double, expected_purchases double, stage string"
        job = functools.partial(score_batches, plan=plan.to_dict())  # plain JSON goes out
        got = frame.mapInPandas(job, schema=schema).toPandas()
        expected = plan.score_table(summary)
        got = got.sort_values("customer_id").reset_index(drop=True)
        np.testing.assert_allclose(got["p_alive"], expected["p_alive"], rtol=1e-12)
        assert got["stage"].tolist() == expected["stage"].astype(object).tolist()
    finally:
        spark.stop()
