"""``detect_drift_jointly``: one function for chunks (one reference) and segments (a reference per pair)."""

import numpy as np
import pandas as pd
import pytest

import mlwarden as mw
from mlwarden.drift import DriftConfig, detect_drift, detect_drift_jointly
from mlwarden.drift.multiple_testing import benjamini_hochberg
from mlwarden.errors import InputError


def frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame({"a": rng.normal(shift, 1, n), "b": rng.normal(0, 1, n), "c": rng.normal(0, 1, n)})


@pytest.fixture(scope="module")
def profiles():
    rng = np.random.default_rng(7)
    reference, other_reference = mw.profile(frame(rng, 3000)), mw.profile(frame(rng, 3000))
    currents = [mw.profile(frame(rng, 1500, shift)) for shift in (0.0, 0.0, 0.6)]
    return reference, other_reference, currents


FEATURES = {"a": "feature", "b": "feature", "c": "feature"}


def test_one_correction_over_every_pair_with_its_own_columns(profiles):
    reference, other_reference, currents = profiles
    config = DriftConfig(multivariate=False)
    pairs = [
        (reference, currents[0], FEATURES),
        (reference, currents[2], {"a": "feature", "b": "feature"}),
        (other_reference, currents[1], {"c": "feature"}),
    ]
    results = detect_drift_jointly(pairs, config)
    assert [[c.column for c in r.columns] for r in results] == [["a", "b", "c"], ["a", "b"], ["c"]]
    assert [r.drifted_columns for r in results] == [[], ["a"], []]
    assert all(r.multivariate is None for r in results)
    # one test per continuous column: alone it gives its raw p-value; jointly, BH's over all six
    raw = [
        detect_drift(ref, cur, columns=[column], config=config).columns[0].p_value
        for ref, cur, roles in pairs
        for column in roles
    ]
    joint = [c.p_value for r in results for c in r.columns]
    assert joint == pytest.approx(benjamini_hochberg(np.array(raw)).tolist())


def test_pairs_sharing_a_reference_get_one_pooled_classifier_a_lone_pair_its_own(profiles):
    reference, other_reference, currents = profiles
    pairs = [(reference, c, FEATURES) for c in currents[:2]] + [(other_reference, currents[2], FEATURES)]
    pooled_a, pooled_b, own = (r.multivariate for r in detect_drift_jointly(pairs))
    sample = len(currents[0].sample)
    # pooled: part of each current's sample trained the shared classifier and is not scored
    assert pooled_a.n_current < sample and pooled_b.n_current < sample
    assert own.n_current == len(currents[2].sample)
    assert own.score == detect_drift(other_reference, currents[2]).multivariate.score


def test_multivariate_flags_choose_the_pairs_checked(profiles):
    reference, other_reference, currents = profiles
    pairs = [(reference, currents[2], FEATURES), (other_reference, currents[0], {"a": "feature"})]
    whole, segment = detect_drift_jointly(pairs, multivariate=[True, False])
    assert whole.multivariate is not None and whole.multivariate.score is not None
    assert segment.multivariate is None
    with pytest.raises(InputError, match="multivariate: expected 2 flags, one per pair, got 1"):
        detect_drift_jointly(pairs, multivariate=[True])


def test_an_unknown_role_or_column_of_any_pair_is_named(profiles):
    reference, _, currents = profiles
    with pytest.raises(InputError, match=r"roles\.a: expected one of"):
        detect_drift_jointly([(reference, currents[0], FEATURES), (reference, currents[1], {"a": "x"})])
    with pytest.raises(InputError, match="columns not in the reference: z"):
        detect_drift_jointly([(reference, currents[0], {"z": "feature"})])
