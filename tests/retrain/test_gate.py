"""The gate's decisions, values and errors on seeded data with a known relation between the models."""

import json

import numpy as np
import pandas as pd
import pytest
from gate_data import DESIGN_KEYS, scored
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression, LogisticRegression

from mlwarden.errors import InputError
from mlwarden.retrain import METRICS, gate

SLICE_KEYS = ["column", "value", "n", "champion", "challenger", "delta", "ci", "regressed"]
COLUMNS = {"score": ("score_a", "score_b"), "label": ("pred_a", "pred_b")}
CLASSIFICATION = [m for m in METRICS.values() if m.task == "classification"]


def run(frame, metric="roc_auc", **kwargs):
    a, b = COLUMNS[METRICS[metric].output]
    return gate(frame, target="churned", champion=a, challenger=b, metric=metric, **kwargs)


def test_json_has_exactly_the_design_keys():
    result = run(scored(challenger_noise=0.6), slices=["country"])
    data = json.loads(result.to_json())
    assert list(data) == DESIGN_KEYS
    assert [list(s) for s in data["slices"]] == [SLICE_KEYS] * 4
    assert [s["value"] for s in data["slices"]] == ["DE", "ES", "FR", "IT"]
    assert data["decision"] == "promote" and data["test"] == "delong" and data["n"] == 6000
    assert len(data["ci"]) == 2 and data["ci"][0] < data["delta"] < data["ci"][1]


@pytest.mark.parametrize("metric", [m.name for m in CLASSIFICATION])
def test_values_are_scikit_learns(metric):
    frame = scored(challenger_noise=0.8)
    result = run(frame, metric, slices="country")
    a, b = COLUMNS[METRICS[metric].output]
    y = frame["churned"]
    sk = {
        "roc_auc": skm.roc_auc_score,
        "accuracy": skm.accuracy_score,
        "precision": skm.precision_score,
        "recall": skm.recall_score,
        "f1": skm.f1_score,
        "log_loss": skm.log_loss,
        "brier": skm.brier_score_loss,
    }[metric]
    assert result.champion == pytest.approx(sk(y, frame[a]), rel=1e-12)
    assert result.challenger == pytest.approx(sk(y, frame[b]), rel=1e-12)
    assert result.delta == pytest.approx(result.challenger - result.champion)
    fr = frame[frame["country"] == "FR"]
    entry = next(s for s in result.slices if s.value == "FR")
    assert entry.n == len(fr) and entry.challenger == pytest.approx(sk(fr["churned"], fr[b]), rel=1e-12)


@pytest.mark.parametrize("metric", [m.name for m in CLASSIFICATION])
def test_a_better_challenger_is_promoted(metric):
    result = run(scored(challenger_noise=0.6), metric, slices=["country"])
    assert result.decision == "promote", result.reasons
    assert result.p_value < 0.05
    assert result.reasons[0].startswith("challenger is better")
    assert not any(s.regressed for s in result.slices)


@pytest.mark.parametrize("metric", [m.name for m in CLASSIFICATION])
def test_a_worse_challenger_is_rejected_with_the_reason(metric):
    result = run(scored(challenger_noise=1.5), metric)
    assert result.decision == "reject"
    assert result.reasons[0].startswith("challenger is worse")


@pytest.mark.parametrize(
    "metric, worse_noise", [("roc_auc", 1.8), ("accuracy", 2.2), ("f1", 2.2), ("brier", 1.8)]
)
def test_better_overall_but_clearly_worse_on_one_segment_is_rejected_naming_it(metric, worse_noise):
    frame = scored(n=8000, challenger_noise=0.5, worse_on="FR", worse_noise=worse_noise, seed=3)
    overall = run(frame, metric)
    assert overall.decision == "promote"  # without slices the challenger looks better
    result = run(frame, metric, slices=["country"])
    assert result.decision == "reject"
    assert [s.value for s in result.slices if s.regressed] == ["FR"]
    assert any(r.startswith("challenger is worse on country=FR by ") for r in result.reasons)


@pytest.mark.parametrize("metric", [m.name for m in METRICS.values()])
def test_identical_models_are_never_promoted(metric):
    frame = scored()
    if METRICS[metric].task == "regression":
        result = gate(frame, target="charges", champion="tenure", challenger="tenure", metric=metric)
    else:
        a, _ = COLUMNS[METRICS[metric].output]
        result = gate(frame, target="churned", champion=a, challenger=a, metric=metric, slices=["country"])
    assert result.decision == "hold"
    assert result.delta == 0.0 and result.p_value == 1.0
    assert result.ci[0] <= 0.0 <= result.ci[1]
    assert result.reasons[0] == "champion and challenger give the same output on every row"
    assert all(s.regressed is False for s in result.slices)


@pytest.mark.parametrize("metric", ["roc_auc", "accuracy", "f1"])
def test_equal_models_with_independent_noise_are_rarely_promoted(metric):
    decisions = [run(scored(n=2000, seed=seed), metric, slices=["country"]).decision for seed in range(30)]
    assert decisions.count("promote") <= 3  # 1 − confidence = 5 %; one-sided: about 2.5 % expected
    assert decisions.count("hold") >= 24


def test_a_small_slice_is_reported_not_judged():
    frame = scored(n=3000, challenger_noise=0.6)
    frame.loc[:59, "country"] = "LU"
    result = run(frame, slices=["country"], min_slice_rows=200)
    small = next(s for s in result.slices if s.value == "LU")
    assert small.n == 60 and small.regressed is None and small.champion is not None
    assert result.decision == "promote"
    assert "1 reported, not judged" in result.reasons[-1]


def test_slices_are_judged_with_a_bonferroni_level():
    frame = scored(n=4000)
    frame["plan"] = np.where(np.arange(4000) % 2 == 0, "basic", "pro")
    result = run(frame, slices=["country", "plan"], confidence=0.9)
    assert result.settings["judged_slices"] == 6
    assert result.settings["slice_confidence"] == pytest.approx(1 - 0.1 / 6)
    assert "each at 98.33 % (Bonferroni over 6)" in result.reasons[-1]


def test_a_missing_slice_value_is_its_own_slice():
    frame = scored(n=3000)
    frame["segment"] = pd.Series(["a", "b", None])[np.arange(3000) % 3].to_numpy()
    result = run(frame, slices=["segment"])
    assert [(s.value, s.n) for s in result.slices] == [("a", 1000), ("b", 1000), (None, 1000)]


def test_min_improvement_holds_a_small_proven_gain():
    frame = scored(n=20000, challenger_noise=0.9)
    assert run(frame).decision == "promote"
    result = run(frame, min_improvement=0.05)
    assert result.decision == "hold"
    assert "not above the minimum 0.05" in result.reasons[0]


def test_bootstrap_first_accepts_a_first_model_explicitly():
    frame = scored()
    with pytest.raises(InputError, match="bootstrap_first"):
        gate(frame, target="churned", champion=None, challenger="score_b")
    result = gate(
        frame, target="churned", champion=None, challenger="score_b", bootstrap_first=True, slices="country"
    )
    assert (result.decision, result.test, result.champion, result.ci, result.p_value) == (
        "promote",
        "none",
        None,
        None,
        None,
    )
    assert result.challenger == pytest.approx(skm.roc_auc_score(frame["churned"], frame["score_b"]))
    assert "bootstrap-first" in result.reasons[0] and "without a comparison" in result.reasons[0]
    assert all(s.regressed is None and s.challenger is not None for s in result.slices)


def test_fitted_estimators_are_applied_to_the_feature_columns():
    frame = scored(challenger_noise=0.6)
    features = frame[["tenure", "charges"]]
    weak = LogisticRegression().fit(features[["tenure"]].assign(charges=0.0), frame["churned"])
    strong = LogisticRegression().fit(features, frame["churned"])
    frame = frame[["tenure", "charges", "country", "churned", "score_a"]]
    # the feature columns: all but the target, the slice and the champion's score column
    result = gate(frame, target="churned", champion="score_a", challenger=strong, slices=["country"])
    expected = skm.roc_auc_score(frame["churned"], strong.predict_proba(features)[:, 1])
    assert result.challenger == pytest.approx(expected)
    frame = frame.drop(columns="score_a")
    versus = gate(
        frame, target="churned", champion=weak, challenger=strong, metric="accuracy", slices=["country"]
    )
    assert versus.champion == pytest.approx(skm.accuracy_score(frame["churned"], weak.predict(features)))
    with pytest.raises(InputError, match="champion: predict_proba"):
        gate(frame, target="churned", champion=LogisticRegression(), challenger=strong, slices=["country"])
    with pytest.raises(
        InputError, match=r"champion: predict_proba\(\) failed on the feature columns: The feature names"
    ):
        gate(frame, target="churned", champion=weak, challenger=strong)  # country is a feature now


def test_regression_error_metrics_count_a_lower_error_as_the_improvement():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3000, 2))
    y = x @ [2.0, -1.0] + rng.normal(0, 1, 3000) + 10
    frame = pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "y": y})
    good = LinearRegression().fit(frame[["x1", "x2"]], y)
    frame["guess"] = 10 + 2 * frame["x1"] + rng.normal(0, 1, 3000)  # ignores x2: worse
    for metric in ("mae", "rmse", "mape"):
        result = gate(frame, target="y", champion="guess", challenger=good, metric=metric)
        assert result.decision == "promote" and result.delta < 0 and result.ci[1] < 0
        assert "(lower is better)" in result.reasons[0]
        backwards = gate(frame, target="y", champion=good, challenger="guess", metric=metric)
        assert backwards.decision == "reject"
    assert result.champion == pytest.approx(skm.mean_absolute_percentage_error(y, frame["guess"]))


def test_a_score_column_for_a_label_metric_is_decided_at_one_half():
    frame = scored(challenger_noise=0.7)
    from_scores = gate(frame, target="churned", champion="score_a", challenger="score_b", metric="accuracy")
    from_labels = gate(frame, target="churned", champion="pred_a", challenger="pred_b", metric="accuracy")
    assert from_scores.to_dict() == from_labels.to_dict()


def test_multiclass_accuracy_and_macro_f1():
    rng = np.random.default_rng(6)
    y = rng.choice(["bronze", "gold", "silver"], 3000)
    a = np.where(rng.random(3000) < 0.7, y, rng.choice(["bronze", "gold", "silver"], 3000))
    b = np.where(rng.random(3000) < 0.8, y, rng.choice(["bronze", "gold", "silver"], 3000))
    frame = pd.DataFrame({"tier": y, "a": a, "b": b})
    accuracy = gate(frame, target="tier", champion="a", challenger="b", metric="accuracy")
    assert accuracy.test == "mcnemar" and accuracy.decision == "promote"
    f1 = gate(frame, target="tier", champion="a", challenger="b", metric="f1")
    assert f1.champion == pytest.approx(skm.f1_score(y, a, average="macro"))
    with pytest.raises(InputError, match="needs a binary target"):
        gate(frame, target="tier", champion="a", challenger="b", metric="roc_auc")


def test_string_labels_and_positive_label():
    frame = scored(challenger_noise=0.7)
    frame["stayed"] = np.where(frame["churned"] == 1, "no", "yes")
    frame["p_no_a"], frame["p_no_b"] = frame["score_a"], frame["score_b"]
    result = gate(frame, target="stayed", champion="p_no_a", challenger="p_no_b", positive_label="no")
    assert result.champion == pytest.approx(skm.roc_auc_score(frame["stayed"] == "no", frame["p_no_a"]))
    assert result.settings["positive_label"] == "no"


def test_rows_without_a_label_are_left_out_and_said():
    frame = scored(n=3000, challenger_noise=0.6)
    frame["churned"] = frame["churned"].astype(float)
    frame.loc[:99, "churned"] = np.nan
    result = run(frame)
    assert result.n == 2900
    assert result.reasons[-1] == "100 rows without a label in 'churned' left out"


def test_the_interval_follows_the_confidence():
    frame = scored(challenger_noise=0.9)
    narrow, wide = run(frame, "f1", confidence=0.8), run(frame, "f1", confidence=0.99)
    assert wide.ci[0] < narrow.ci[0] < narrow.ci[1] < wide.ci[1]
    assert run(frame, "f1", seed=1).ci != narrow.ci and run(frame, "f1", confidence=0.8).ci == narrow.ci


@pytest.mark.parametrize(
    "change, kwargs, message",
    [
        (None, {"metric": "auc"}, "metric: unknown 'auc'"),
        (None, {"confidence": 1.5}, "confidence: expected a number between 0 and 1"),
        (None, {"min_improvement": -0.01}, "min_improvement: expected a number ≥ 0"),
        (None, {"max_slice_regression": -1}, "max_slice_regression"),
        (None, {"min_slice_rows": 0}, "min_slice_rows"),
        (None, {"target": "label"}, "target: no column 'label'"),
        (None, {"challenger": "score_c"}, "challenger: no column 'score_c'"),
        (None, {"slices": ["plan"]}, "slice: no column 'plan'"),
        (None, {"slices": ["tenure"]}, "slice 'tenure': 6,000 distinct values"),
        (None, {"slices": ["churned"]}, "slice 'churned': is the target"),
        ("nan_score", {}, "champion column 'score_a': 1 missing or non-finite"),
        ("one_class", {}, "one class only"),
        ("out_of_range", {"metric": "log_loss"}, r"log_loss needs probabilities in \[0, 1\]"),
        (None, {"metric": "mae"}, None),
        (None, {"challenger": 3}, "challenger: expected a column name or a fitted estimator"),
    ],
)
def test_user_mistakes_are_one_line_input_errors(change, kwargs, message):
    frame = scored()
    if change == "nan_score":
        frame.loc[5, "score_a"] = np.nan
    elif change == "one_class":
        frame["churned"] = 1
    elif change == "out_of_range":
        frame["score_a"] = frame["score_a"] * 3
    arguments = {"target": "churned", "champion": "score_a", "challenger": "score_b", **kwargs}
    if message is None:  # mae on a 0/1 target is allowed: a regression of a 0/1 value
        gate(frame, **arguments)
        return
    with pytest.raises(InputError, match=message) as error:
        gate(frame, **arguments)
    assert "\n" not in str(error.value)


def test_a_csv_or_parquet_path_is_read(tmp_path):
    frame = scored(challenger_noise=0.7)
    frame.to_parquet(tmp_path / "scored.parquet")
    frame.to_csv(tmp_path / "scored.csv", index=False)
    expected = run(frame, "f1", slices=["country"]).to_dict()
    assert run(tmp_path / "scored.parquet", "f1", slices=["country"]).to_dict() == expected
    assert run(str(tmp_path / "scored.csv"), "f1", slices=["country"]).to_dict() == expected


def test_a_slice_where_the_test_is_impossible_is_not_judged():
    frame = scored(n=4000, challenger_noise=0.6)
    frame["plan"] = "basic"
    only_negatives = frame.index[frame["churned"] == 0][:300]
    one_positive = np.r_[frame.index[frame["churned"] == 0][300:600], frame.index[frame["churned"] == 1][:1]]
    frame.loc[only_negatives, "plan"] = "trial"  # ROC AUC undefined
    frame.loc[one_positive, "plan"] = "legacy"  # AUC defined, DeLong's variance not
    result = run(frame, slices=["plan"])
    verdicts = {s.value: (s.n, s.regressed, s.ci is None) for s in result.slices}
    assert verdicts["trial"] == (300, None, True) and verdicts["legacy"] == (301, None, True)
    assert verdicts["basic"][1] is False
    assert result.settings["judged_slices"] == 1 and result.settings["slice_confidence"] == pytest.approx(
        0.95
    )
    assert "1 slice value judged" in result.reasons[-1] and "2 reported, not judged" in result.reasons[-1]
    accuracy = run(frame, "accuracy", slices=["plan"])  # accuracy is defined on one class: judged
    assert all(s.regressed is not None for s in accuracy.slices)


def test_too_few_rows_of_a_class_overall_hold_with_the_reason():
    frame = pd.DataFrame(
        {"y": [0, 1, 0, 0, 0, 0], "a": [0.1, 0.9, 0.2, 0.3, 0.4, 0.2], "b": [0.2, 0.8, 0.1, 0.5, 0.6, 0.3]}
    )
    result = gate(frame, target="y", champion="a", challenger="b")
    assert result.decision == "hold" and result.ci is None and result.p_value is None
    assert result.reasons[0] == "no delong interval: too few rows of a class to compare the models"
    undefined = gate(frame.assign(b=0.0), target="y", champion="a", challenger="b", metric="precision")
    assert undefined.decision == "hold" and undefined.challenger is None
    assert undefined.reasons[0] == "precision is undefined on these rows for the challenger"
