"""assess_performance: classes come from the model, never from the window; expected values from sklearn."""

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from mlwarden.errors import InputError
from mlwarden.performance import assess_performance
from mlwarden.schema import ColumnMapping

LAND = ["water", "desert", "green area", "clouds"]  # the model's class order (not sorted)
LAND_COLUMNS = {"water": "p_water", "desert": "p_desert", "green area": "p_green", "clouds": "p_clouds"}


def binary_frame(rng: np.random.Generator, n: int, positive_rate: float = 0.4) -> pd.DataFrame:
    y = (rng.random(n) < positive_rate).astype(int)
    score = np.clip(0.25 + 0.5 * y + rng.normal(0, 0.2, n), 0, 1)
    return pd.DataFrame({"y": y, "pred": (score >= 0.5).astype(int), "score": score})


def multiclass_frame(rng: np.random.Generator, n: int, classes: list, columns: list[str]) -> pd.DataFrame:
    """Labels drawn uniformly; scores a softmax favouring the true class; prediction the arg-max."""
    idx = rng.integers(0, len(classes), n)
    logits = rng.normal(0, 1, (n, len(classes)))
    logits[np.arange(n), idx] += 1.5
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    frame = pd.DataFrame(p, columns=columns)
    frame["y"] = np.asarray(classes, dtype=object)[idx]
    frame["pred"] = np.asarray(classes, dtype=object)[p.argmax(axis=1)]
    return frame


BINARY = ColumnMapping(target="y", prediction="pred", scores="score")


def test_binary_window_with_only_negative_labels_keeps_the_models_positive_class():
    rng = np.random.default_rng(0)
    ref = binary_frame(rng, 2_000)
    cur = binary_frame(rng, 500)
    cur = cur[cur["y"] == 0].reset_index(drop=True)
    perf, _, _ = assess_performance(ref, cur, BINARY)
    real = perf["realized"]
    y, pred = cur["y"], cur["pred"]
    assert pred.sum() > 0  # some false positives: precision of class 1 is defined and 0
    assert real["precision"] == pytest.approx(metrics.precision_score(y, pred, pos_label=1))
    assert real["precision"] == 0.0  # with 0 as positive class it would be ~0.9
    assert real["recall"] is None  # no positive row: recall of class 1 is 0/0, undefined
    assert real["accuracy"] == pytest.approx(metrics.accuracy_score(y, pred))
    assert real["roc_auc"] is None
    # from a saved-profile reference the positive class comes from positive_label
    perf, _, _ = assess_performance(None, cur, BINARY.merged(positive_label=1))
    assert perf["realized"]["precision"] == 0.0


def test_four_classes_in_the_models_order_give_sklearns_roc_auc():
    rng = np.random.default_rng(1)
    columns = [LAND_COLUMNS[c] for c in LAND]
    ref, cur = multiclass_frame(rng, 3_000, LAND, columns), multiclass_frame(rng, 1_000, LAND, columns)
    cur = cur[["p_clouds", "y", "p_water", "pred", "p_green", "p_desert"]]  # frame order is irrelevant
    mapping = ColumnMapping(target="y", prediction="pred", scores=LAND_COLUMNS)
    perf, findings, _ = assess_performance(ref, cur, mapping)
    labels = sorted(LAND)
    expected = metrics.roc_auc_score(
        cur["y"], cur[[LAND_COLUMNS[c] for c in labels]], multi_class="ovr", labels=labels
    )
    assert perf["realized"]["roc_auc"] == pytest.approx(expected)
    assert expected > 0.8
    assert perf["estimated"]["roc_auc"] == pytest.approx(expected, abs=0.03)
    assert not [f for f in findings if f.severity != "info"]


def test_score_list_in_the_models_order_is_an_error_naming_the_right_order():
    rng = np.random.default_rng(2)
    columns = [LAND_COLUMNS[c] for c in LAND]
    ref = multiclass_frame(rng, 2_000, LAND, columns)
    mapping = ColumnMapping(target="y", prediction="pred", scores=columns)  # a list means sorted class order
    with pytest.raises(InputError) as error:
        assess_performance(ref, ref, mapping)
    message = str(error.value)
    assert message.startswith("scores: arg-max of the score columns agrees with prediction on")
    assert "'clouds': 'p_clouds'" in message and "'water': 'p_water'" in message
    assert "\n" not in message


def test_three_class_window_without_the_third_class_is_scored_over_all_three():
    rng = np.random.default_rng(3)
    classes, columns = [0, 1, 2], ["p0", "p1", "p2"]
    ref = multiclass_frame(rng, 3_000, classes, columns)
    cur = multiclass_frame(rng, 1_500, classes, columns)
    cur = cur[cur["y"] != 2].reset_index(drop=True)
    cur["y"] = cur["y"].astype(int)
    cur["pred"] = cur["pred"].astype(int)
    ref["y"], ref["pred"] = ref["y"].astype(int), ref["pred"].astype(int)
    mapping = ColumnMapping(target="y", prediction="pred", scores=columns)
    perf, findings, notes = assess_performance(ref, cur, mapping)
    real = perf["realized"]
    p, r, f, _ = metrics.precision_recall_fscore_support(
        cur["y"], cur["pred"], labels=classes, average="macro", zero_division=0
    )
    assert real["accuracy"] == pytest.approx(metrics.accuracy_score(cur["y"], cur["pred"]))
    assert (real["precision"], real["recall"], real["f1"]) == pytest.approx((p, r, f))
    with pytest.warns(UserWarning):  # sklearn: ROC AUC undefined for the absent class
        assert np.isnan(metrics.roc_auc_score(cur["y"], cur[columns], multi_class="ovr", labels=classes))
    assert real["roc_auc"] is None
    assert any("no row of class 2" in n for n in notes)
    # the macro metrics of a window missing a class are not compared with the reference or the estimate
    compared = [f for f in findings if f.check in ("performance.realized", "performance.estimate_mismatch")]
    assert not [f for f in compared if f.evidence.get("metric") in ("precision", "recall", "f1")]


def test_poisson_count_target_with_float_prediction_is_regression():
    rng = np.random.default_rng(4)

    def frame(n):
        x = rng.normal(size=n)
        rate = np.exp(1.0 + 0.8 * x)
        y = np.minimum(rng.poisson(rate), 15)
        return pd.DataFrame({"x": x, "y": y, "pred": rate})

    ref, cur = frame(2_000), frame(500)
    assert ref["y"].dtype.kind == "i"
    perf, _, _ = assess_performance(ref, cur, ColumnMapping(target="y", prediction="pred"))
    assert perf["realized"]["mae"] == pytest.approx(metrics.mean_absolute_error(cur["y"], cur["pred"]))
    assert perf["realized"]["rmse"] == pytest.approx(metrics.root_mean_squared_error(cur["y"], cur["pred"]))
    assert perf["estimated"]["mae"] == pytest.approx(perf["realized"]["mae"], rel=0.15)


def test_task_regression_forces_regression_on_a_few_whole_values():
    df = pd.DataFrame({"y": [1, 2, 3, 2, 1] * 20, "pred": [1, 2, 2, 2, 3] * 20})
    perf, _, _ = assess_performance(None, df, ColumnMapping(target="y", prediction="pred", task="regression"))
    assert perf["realized"]["mae"] == pytest.approx(metrics.mean_absolute_error(df["y"], df["pred"]))
    perf, _, _ = assess_performance(None, df, ColumnMapping(target="y", prediction="pred"))
    assert perf["realized"]["accuracy"] == pytest.approx(metrics.accuracy_score(df["y"], df["pred"]))


def test_ten_non_finite_scores_give_metrics_over_the_finite_rows():
    rng = np.random.default_rng(5)
    ref, cur = binary_frame(rng, 2_000), binary_frame(rng, 500)
    cur.loc[:4, "score"] = np.nan
    cur.loc[5:7, "score"] = np.inf
    cur.loc[8:9, "score"] = -np.inf
    perf, _, notes = assess_performance(ref, cur, BINARY)
    finite = np.isfinite(cur["score"])
    assert (~finite).sum() == 10
    assert perf["realized"]["roc_auc"] == pytest.approx(
        metrics.roc_auc_score(cur["y"][finite], cur["score"][finite])
    )
    assert perf["realized"]["n"] == 500 and perf["realized"]["n_scored"] == 490
    assert perf["realized"]["accuracy"] == pytest.approx(metrics.accuracy_score(cur["y"], cur["pred"]))
    assert perf["estimated"]["n_scored"] == 490
    assert any("10 of 500 rows have a non-finite score" in n for n in notes)


def test_reference_with_one_class_gives_no_estimate_and_one_note():
    rng = np.random.default_rng(6)
    ref = binary_frame(rng, 500)
    ref["y"] = 0
    cur = binary_frame(rng, 200).drop(columns="y")
    perf, findings, notes = assess_performance(ref, cur, BINARY)
    assert perf["estimated"] == {}
    assert [n for n in notes if "one class" in n] == [
        "the reference holds one class only (0): performance cannot be estimated"
    ]
    assert findings == []


def test_labels_of_mixed_types_name_the_same_classes():
    rng = np.random.default_rng(7)
    classes, columns = [0, 1, 2], ["p0", "p1", "p2"]
    ref = multiclass_frame(rng, 1_000, classes, columns)
    ref["y"], ref["pred"] = ref["y"].astype(int), ref["pred"].astype(int)
    cur = ref.copy()
    cur["y"] = cur["y"].astype(object)
    cur.loc[::2, "y"] = cur.loc[::2, "y"].astype(str)  # "1" and 1 in one column
    mapping = ColumnMapping(
        target="y", prediction="pred", scores={"0": "p0", "1": "p1", "2": "p2"}
    )  # CLI keys
    perf, _, _ = assess_performance(ref, cur, mapping)
    assert perf["realized"]["accuracy"] == pytest.approx(metrics.accuracy_score(ref["y"], ref["pred"]))
    expected = metrics.roc_auc_score(ref["y"], ref[columns], multi_class="ovr", labels=classes)
    assert perf["realized"]["roc_auc"] == pytest.approx(expected)


def test_labels_mixing_numbers_and_words_without_an_order_are_one_clear_error():
    df = pd.DataFrame({"y": [0, "yes"] * 50, "pred": [0, "yes"] * 50, "score": [0.2, 0.8] * 50})
    with pytest.raises(InputError, match=r"^positive_label: labels mix numbers and strings \(0, yes\)"):
        assess_performance(df, df, BINARY)
    perf, _, _ = assess_performance(df, df, BINARY.merged(positive_label="yes"))
    assert perf["realized"]["precision"] == 1.0 and perf["realized"]["roc_auc"] == 1.0


def test_a_binary_score_of_the_other_class_is_an_error():
    rng = np.random.default_rng(8)
    ref = binary_frame(rng, 1_000)
    ref["score"] = 1 - ref["score"]  # P(0) given as if it were P(1)
    with pytest.raises(InputError, match=r"the score is probably P\(0\), not P\(1\)"):
        assess_performance(ref, ref, BINARY)


def test_estimate_and_realized_share_one_definition():
    """Scores that are certain (one-hot) make the estimate the realized value exactly — including a class
    the model never predicts (precision 0/0 counts 0 in the macro average on both sides)."""
    rng = np.random.default_rng(9)
    classes, columns = ["a", "b", "c"], ["pa", "pb", "pc"]
    y = np.asarray(classes, dtype=object)[rng.integers(0, 3, 600)]
    onehot = (y[:, None] == np.asarray(classes)[None, :]).astype(float)
    pred = np.where(y == "c", "b", y)  # "c" is never predicted
    frame = pd.DataFrame(onehot, columns=columns).assign(y=y, pred=pred)
    mapping = ColumnMapping(target="y", prediction="pred", scores=dict(zip(classes, columns, strict=True)))
    perf, findings, _ = assess_performance(frame, frame, mapping)
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        assert perf["estimated"][name] == pytest.approx(perf["realized"][name]), name
    p, r, f, _ = metrics.precision_recall_fscore_support(
        y, pred, labels=classes, average="macro", zero_division=0
    )
    assert (
        perf["realized"]["precision"],
        perf["realized"]["recall"],
        perf["realized"]["f1"],
    ) == pytest.approx((p, r, f))
    assert not [f for f in findings if f.check == "performance.estimate_mismatch"]


def test_no_labels_anywhere_is_a_note_not_an_error():
    rng = np.random.default_rng(10)
    cur = binary_frame(rng, 100).drop(columns="y")
    perf, findings, notes = assess_performance(None, cur, BINARY)
    assert perf == {"estimated": {}, "realized": {}} and findings == []
    assert any("no labels in current data" in n for n in notes)


def test_integer_column_names_are_found_by_their_string_names():
    rng = np.random.default_rng(11)
    ref = binary_frame(rng, 300)
    numbered = pd.DataFrame(ref.to_numpy())  # columns 0, 1, 2: y, pred, score
    mapping = ColumnMapping(target="0", prediction="1", scores="2")
    perf, _, _ = assess_performance(numbered, numbered, mapping)
    assert perf["realized"]["roc_auc"] == pytest.approx(metrics.roc_auc_score(ref["y"], ref["score"]))


def test_a_prediction_that_is_not_an_arg_max_raises_nothing():
    rng = np.random.default_rng(12)
    columns = [LAND_COLUMNS[c] for c in LAND]
    ref = multiclass_frame(rng, 2_000, LAND, columns)
    noisy = (
        rng.random(len(ref)) < 0.3
    )  # per-class thresholds, business rules: not the arg-max on 30 % of rows
    ref.loc[noisy, "pred"] = np.asarray(LAND, dtype=object)[rng.integers(0, 4, noisy.sum())]
    perf, _, _ = assess_performance(
        ref, ref, ColumnMapping(target="y", prediction="pred", scores=LAND_COLUMNS)
    )
    assert perf["realized"]["accuracy"] == pytest.approx(metrics.accuracy_score(ref["y"], ref["pred"]))


@pytest.mark.parametrize(
    "change",
    [
        lambda cur: cur.iloc[:0],  # header only
        lambda cur: cur.assign(score=np.nan),  # every score missing
        lambda cur: cur.assign(y=np.nan),  # labels not arrived yet
        lambda cur: cur.drop(columns="score"),  # no score column
        lambda cur: cur.assign(pred=cur["pred"].where(cur.index % 3 > 0)),  # some predictions missing
    ],
    ids=["empty", "all-nan-scores", "no-labels", "no-score-column", "missing-predictions"],
)
def test_degenerate_current_windows_give_notes_not_errors(change):
    rng = np.random.default_rng(13)
    ref = binary_frame(rng, 1_000)
    cur = change(binary_frame(rng, 300))
    perf, findings, _ = assess_performance(ref, cur, BINARY)
    assert not [f for f in findings if f.severity == "critical"]
    realized = perf["realized"]
    if realized.get("accuracy") is not None:
        has = cur["pred"].notna()
        assert realized["accuracy"] == pytest.approx(metrics.accuracy_score(cur["y"][has], cur["pred"][has]))


def test_a_tiny_reference_is_neither_estimated_from_nor_compared_with():
    rng = np.random.default_rng(14)
    ref, cur = binary_frame(rng, 30), binary_frame(rng, 1_000)
    perf, findings, notes = assess_performance(ref, cur, BINARY)
    assert perf["estimated"] == {} and findings == []
    assert any("30 labelled rows, at least 50 are needed" in n for n in notes)


def test_without_a_prediction_the_labels_reveal_misordered_score_columns():
    rng = np.random.default_rng(15)
    columns = [LAND_COLUMNS[c] for c in LAND]
    ref = multiclass_frame(rng, 2_000, LAND, columns).drop(columns="pred")
    with pytest.raises(InputError, match=r"^scores: the score columns' mean one-vs-rest ROC AUC is 0\.\d\d"):
        assess_performance(ref, ref, ColumnMapping(target="y", scores=columns))
    perf, _, _ = assess_performance(ref, ref, ColumnMapping(target="y", scores=LAND_COLUMNS))
    labels = sorted(LAND)
    expected = metrics.roc_auc_score(
        ref["y"], ref[[LAND_COLUMNS[c] for c in labels]], multi_class="ovr", labels=labels
    )
    assert perf["realized"]["roc_auc"] == pytest.approx(expected)


def test_without_a_prediction_a_reversed_binary_score_is_an_error_but_an_uncalibrated_one_is_not():
    rng = np.random.default_rng(16)
    ref = binary_frame(rng, 1_000, positive_rate=0.1).drop(columns="pred")
    mapping = ColumnMapping(target="y", scores="score")
    with pytest.raises(
        InputError, match=r"ROC AUC for label 1 is 0\.0\d on the reference; the score is probably P\(0\)"
    ):
        reversed_score = ref.assign(score=1 - ref["score"])  # P(0) given as the score
        assess_performance(reversed_score, reversed_score, mapping)
    uncalibrated = ref.assign(score=0.6 + 0.4 * ref["score"])  # every score ≥ 0.6, 10 % positives
    perf, _, _ = assess_performance(uncalibrated, uncalibrated, mapping)
    assert perf["realized"]["roc_auc"] == pytest.approx(metrics.roc_auc_score(ref["y"], ref["score"]))


def test_a_class_of_the_map_missing_from_the_reference_is_noted_not_fatal():
    rng = np.random.default_rng(17)
    columns = [LAND_COLUMNS[c] for c in LAND]
    ref = multiclass_frame(rng, 2_000, LAND, columns)
    ref = ref[ref["y"] != "clouds"]
    perf, _, notes = assess_performance(
        ref, ref, ColumnMapping(target="y", prediction="pred", scores=LAND_COLUMNS)
    )
    assert perf["estimated"]["roc_auc"] is None and perf["estimated"]["accuracy"] is not None
    assert any("no row of class clouds" in n for n in notes)
    assert perf["realized"]["accuracy"] == pytest.approx(metrics.accuracy_score(ref["y"], ref["pred"]))


def labelled(n: int, errors: int) -> pd.DataFrame:
    """``n`` rows alternating classes 0/1 whose prediction is wrong on the first ``errors`` rows."""
    y = np.arange(n) % 2
    pred = y.copy()
    pred[:errors] = 1 - pred[:errors]
    return pd.DataFrame({"y": y, "pred": pred})


def test_a_drop_within_the_noise_of_both_samples_raises_nothing():
    """Accuracy 52/53 on the reference, 50/54 now (a random half-split of wine did this): the current's
    Wilson band alone excludes 0.981, but Fisher's exact test sees no difference (p ≈ 0.36). 35/54 is a
    real fall (p < 0.001) and still warns."""
    from scipy.stats import fisher_exact

    mapping = ColumnMapping(target="y", prediction="pred")
    ref = labelled(53, 1)
    assert fisher_exact([[52, 1], [50, 4]]).pvalue > 0.3
    _, found, _ = assess_performance(ref, labelled(54, 4), mapping)
    assert [f for f in found if f.severity != "info"] == []
    assert fisher_exact([[53, 0], [49, 5]]).pvalue > 0.05  # 53/53 against 49/54 (another wine split)
    _, found, _ = assess_performance(labelled(53, 0), labelled(54, 5), mapping)
    assert [f for f in found if f.severity != "info"] == []
    assert fisher_exact([[52, 1], [35, 19]]).pvalue < 0.001
    _, found, _ = assess_performance(ref, labelled(54, 19), mapping)
    assert "accuracy" in {f.evidence["metric"] for f in found if f.check == "performance.realized"}


def test_a_metric_without_a_band_raises_no_drop_warning():
    """3-class macro precision has no band; a 54-row window 0.06 below the reference is noise, not a drop."""
    rng = np.random.default_rng(5)
    classes, columns = [0, 1, 2], ["p0", "p1", "p2"]
    ref = multiclass_frame(rng, 600, classes, columns)
    mapping = ColumnMapping(target="y", prediction="pred", scores=dict(zip(classes, columns, strict=True)))
    for _ in range(20):
        cur = multiclass_frame(rng, 54, classes, columns)
        perf, found, _ = assess_performance(ref, cur, mapping)
        assert perf["realized"].get("precision_upper") is None
        macro = [f for f in found if f.evidence.get("metric") in ("precision", "recall", "f1")]
        assert not [f for f in macro if f.check == "performance.realized"]


def test_a_positive_label_that_is_not_a_reference_label_is_an_input_error():
    """positive_label='yes' for 0/1 labels: sklearn refuses it (pos_label is not a valid label); we did
    silently score a 3-class model {0, 1, 'yes'} with no estimate."""
    rng = np.random.default_rng(2)
    ref, cur = binary_frame(rng, 500), binary_frame(rng, 200)
    with pytest.raises(ValueError, match="pos_label"):
        metrics.precision_score(cur["y"], cur["pred"], pos_label="yes")
    with pytest.raises(InputError, match=r"^positive_label: 'yes' is not a label of the reference \(0, 1\)$"):
        assess_performance(ref, cur, BINARY.merged(positive_label="yes"))
    perf, _, _ = assess_performance(ref, cur, BINARY.merged(positive_label=1))
    assert perf["realized"]["precision"] == pytest.approx(metrics.precision_score(cur["y"], cur["pred"]))


def test_a_window_predicting_one_class_of_three_raises_no_estimated_macro_drop():
    """One row (or a few) predicted as one class: estimated macro precision over three classes is at most
    1/3 by definition (sklearn's zero_division=0 for the classes never predicted), not a fall."""
    rng = np.random.default_rng(6)
    classes, columns = [0, 1, 2], ["p0", "p1", "p2"]
    ref = multiclass_frame(rng, 600, classes, columns)
    mapping = ColumnMapping(target="y", prediction="pred", scores=dict(zip(classes, columns, strict=True)))
    cur = ref.iloc[:1].drop(columns="y")
    one = ref.iloc[:1].astype({"y": int, "pred": int})
    assert (
        metrics.precision_score(one["y"], one["pred"], labels=classes, average="macro", zero_division=0)
        <= 1 / 3
    )
    perf, found, notes = assess_performance(ref, cur, mapping)
    assert perf["estimated"]["precision"] <= 1 / 3 + 1e-9
    assert [f for f in found if f.severity != "info"] == []
    assert any("predicts no row as class" in note for note in notes)


def test_regression_bands_are_student_t_intervals_and_guard_small_windows():
    """MAE's band is scipy's t interval of the mean absolute error; DLE's estimate has the t band of the mean
    predicted loss. Five diabetes rows are no evidence that the loss rose."""
    from scipy import stats
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    from mlwarden.performance.realized import regression_metrics

    data = load_diabetes(as_frame=True)
    frame = data.frame.assign(pred=Ridge().fit(data.data, data.target).predict(data.data))
    abs_err = np.abs(frame["pred"] - frame["target"]).to_numpy()[:5]
    low, high = stats.t.interval(0.95, 4, loc=abs_err.mean(), scale=stats.sem(abs_err))
    got = regression_metrics(frame["target"].to_numpy()[:5], frame["pred"].to_numpy()[:5])
    assert (got["mae_lower"], got["mae_upper"]) == (pytest.approx(low), pytest.approx(high))
    mapping = ColumnMapping(target="target", prediction="pred")
    ref, pool = frame.iloc[::2].reset_index(drop=True), frame.iloc[1::2].reset_index(drop=True)
    rng = np.random.default_rng(1)
    for _ in range(10):
        cur = pool.iloc[rng.choice(len(pool), 5, replace=False)].reset_index(drop=True)
        perf, found, _ = assess_performance(ref, cur.drop(columns="target"), mapping)
        assert perf["estimated"]["mae_lower"] < perf["estimated"]["mae"] < perf["estimated"]["mae_upper"]
        assert [f for f in found if f.severity != "info"] == []


def test_estimated_bands_of_a_two_row_window_hold_their_estimate():
    """Two breast-cancer rows both predicted class 0 with scores below 0.01: the estimated accuracy's band was
    [1.0014, 1.0] around 0.9989 (a skewed bootstrap put the mean beyond its 2.5th percentile), and recall —
    undefined unless a positive is drawn — got the band [0, 0] and a warning 'estimated recall fell to 0'."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    data = load_breast_cancer(as_frame=True)
    model = LogisticRegression(max_iter=5_000).fit(data.data.iloc[::2], data.target.iloc[::2])
    frame = data.frame.assign(score=model.predict_proba(data.data)[:, 1], pred=model.predict(data.data))
    ref, pool = frame.iloc[1::2].reset_index(drop=True), frame.iloc[::2]
    negatives = pool[pool["pred"] == 0].drop(columns="target")
    mapping = ColumnMapping(target="target", prediction="pred", scores="score")
    for start in range(0, 40, 2):
        perf, found, _ = assess_performance(ref, negatives.iloc[start : start + 2], mapping)
        est = perf["estimated"]
        for name in ("accuracy", "recall", "f1", "roc_auc"):
            if est.get(f"{name}_lower") is not None:
                assert 0.0 <= est[f"{name}_lower"] <= est[name] <= est[f"{name}_upper"] <= 1.0
        assert [f for f in found if f.severity != "info"] == []
