"""The Dask engine on a real two-worker LocalCluster: equal to the single-process profile and verdicts."""

from __future__ import annotations

import dask.dataframe as dd
import distributed
import pytest
from profile_equality import assert_same_profile, mixed_frame

import mlwarden as mw
from mlwarden.errors import InputError
from mlwarden.profile import profile


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_dask_profile_equals_the_single_process_profile(client):
    frame = mixed_frame(60_000)
    data = dd.from_pandas(frame, npartitions=11)  # more partitions than one merge: a two-level tree
    assert_same_profile(profile(frame, seed=3), mw.profile(data, seed=3))
    reference = profile(mixed_frame(5_000, seed=1))  # current data binned on a reference's edges
    assert_same_profile(
        profile(frame, reference=reference, seed=4), mw.profile(data, reference=reference, seed=4)
    )


def test_dask_profiles_give_the_single_process_drift_verdicts(client):
    reference, current = mixed_frame(30_000, seed=5), mixed_frame(20_000, seed=6)
    current["gappy"] *= 1.2  # a scale shift in one feature
    ref_dask = mw.profile(dd.from_pandas(reference, npartitions=4), seed=1)
    cur_dask = mw.profile(dd.from_pandas(current, npartitions=3), reference=ref_dask, seed=2)
    ref_one = profile(reference, seed=1)
    cur_one = profile(current, reference=ref_one, seed=2)
    on_dask, in_process = mw.compare(ref_dask, cur_dask), mw.compare(ref_one, cur_one)
    verdicts = {c.column: c.drifted for c in on_dask.drift.features}
    assert verdicts == {c.column: c.drifted for c in in_process.drift.features}
    assert verdicts["gappy"] and not verdicts["city"]
    assert [f.message for f in on_dask.findings] == [f.message for f in in_process.findings]


def test_dask_profile_rejects_sketches_and_unknown_columns(client):
    data = dd.from_pandas(mixed_frame(1_000), npartitions=2)
    with pytest.raises(InputError, match="sketch"):
        mw.profile(data, sketch=True)
    with pytest.raises(InputError, match="columns not in the data: nope"):
        mw.profile(data, columns=["nope"])
