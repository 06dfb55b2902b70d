"""The Spark engine in local[2]: partitions profiled by mapInPandas equal the single-process profile."""

from __future__ import annotations

import os
import sys

import pytest
from profile_equality import assert_same_profile, mixed_frame

import mlwarden as mw
from mlwarden.profile import profile


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers import mlwarden from this interpreter
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mlwarden-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "4000")  # several batches per partition
        .getOrCreate()
    )
    yield session
    session.stop()


def test_spark_profiles_equal_the_single_process_ones_and_give_its_verdicts(spark):
    reference, current = mixed_frame(20_000, seed=5), mixed_frame(12_000, seed=6)
    current["gappy"] *= 1.2  # a scale shift in one feature
    ref_frame = spark.createDataFrame(reference).repartition(3)
    ref_rows = ref_frame.toPandas()  # the rows in partition order: what the engine numbers
    ref_spark = mw.profile(ref_frame, seed=1)
    ref_one = profile(ref_rows, seed=1)
    assert_same_profile(ref_one, ref_spark)

    cur_frame = spark.createDataFrame(current)
    cur_spark = mw.profile(cur_frame, reference=ref_spark, seed=2)
    cur_one = profile(cur_frame.toPandas(), reference=ref_one, seed=2)
    assert_same_profile(cur_one, cur_spark)

    on_spark, in_process = mw.compare(ref_spark, cur_spark), mw.compare(ref_one, cur_one)
    verdicts = {c.column: c.drifted for c in on_spark.drift.features}
    assert verdicts == {c.column: c.drifted for c in in_process.drift.features}
    assert verdicts["gappy"] and not verdicts["city"]
    assert [f.message for f in on_spark.findings] == [f.message for f in in_process.findings]
