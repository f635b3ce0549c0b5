"""sweeper.reports.stats against hand-computed values, scipy as the reference, and simulation."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fake_folders import GOOD_RECORD, fake_job, grid, results_csv
from matplotlib.figure import Figure
from scipy import stats as sps

from conftest import run_compare
from sweeper import collect as collect_module
from sweeper.reports.stats import (
    by_config,
    compare_samples,
    format_summary,
    holm,
    metric_columns,
    metric_direction,
    metric_range,
    metric_split,
    no_value,
    summarize,
    verdict,
)


def test_summary_by_hand():
    # 1, 2, 3, 4: mean 2.5, s^2 = (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3, t(0.975, 3) = 3.182446
    s = summarize([1.0, 2.0, 3.0, 4.0])
    assert (s.n, s.mean) == (4, 2.5)
    assert s.std == pytest.approx(math.sqrt(5 / 3))
    half = 3.182446305284263 * math.sqrt(5 / 3) / 2
    assert (s.low, s.high) == pytest.approx((2.5 - half, 2.5 + half))
    assert s.half_width == pytest.approx(half)
    assert format_summary(s) == f"2.5000 ± {half:.4f} (4)"


def test_summary_leaves_out_nan_and_says_n_1_plainly():
    s = summarize([0.9, float("nan"), float("inf")])
    assert s.n == 1 and s.mean == 0.9 and math.isnan(s.std) and math.isnan(s.low)
    assert format_summary(s) == "0.9000 (n=1)"
    assert format_summary(summarize([])) == "–"
    same = summarize([0.5, 0.5, 0.5])
    assert (same.std, same.low, same.high) == (0.0, 0.5, 0.5)


def test_ci_covers_a_known_mean_at_about_95_percent():
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(400):
        s = summarize(rng.normal(0.8, 0.05, size=5))
        hits += s.low <= 0.8 <= s.high
    assert 0.92 <= hits / 400 <= 0.98, hits


def test_welch_matches_scipy_and_the_welch_satterthwaite_interval():
    a = pd.Series([0.80, 0.82, 0.79, 0.85], index=[0, 1, 2, 3])
    b = pd.Series([0.90, 0.88, 0.95, 0.91, 0.93], index=[0, 1, 2, 3, 4])  # other seeds: unpaired
    c = compare_samples(a, b)
    assert c.test == "Welch t"
    assert c.p == pytest.approx(sps.ttest_ind(b, a, equal_var=False).pvalue)
    va, vb = a.var() / 4, b.var() / 5
    df = (va + vb) ** 2 / (va**2 / 3 + vb**2 / 4)
    half = sps.t.ppf(0.975, df) * math.sqrt(va + vb)
    assert c.diff == pytest.approx(b.mean() - a.mean())
    assert (c.diff_low, c.diff_high) == pytest.approx((c.diff - half, c.diff + half))


def test_the_same_seeds_are_paired_in_any_order():
    a = pd.Series([0.80, 0.82, 0.79, 0.85, 0.81], index=[0, 1, 2, 3, 4])
    b = pd.Series([0.83, 0.86, 0.84, 0.82, 0.84], index=[4, 0, 1, 2, 3])  # seed 4 first
    c = compare_samples(a, b)
    assert c.test == "paired t"
    aligned = a.reindex(b.index)
    assert c.p == pytest.approx(sps.ttest_rel(b, aligned).pvalue)
    d = b - aligned
    half = sps.t.ppf(0.975, 4) * d.std() / math.sqrt(5)
    assert (c.diff_low, c.diff_high) == pytest.approx((d.mean() - half, d.mean() + half))


def test_duplicate_or_missing_seeds_fall_back_to_welch():
    a = pd.Series([0.8, 0.82, 0.81], index=[0, 0, 1])
    b = pd.Series([0.9, 0.91, 0.92], index=[0, 1, 2])
    assert compare_samples(a, b).test == "Welch t"
    assert compare_samples(a.iloc[1:], b).test == "Welch t"


def test_n_1_has_no_test_and_no_verdict():
    c = compare_samples(pd.Series([0.8]), pd.Series([0.9, 0.95]))
    assert c.test == "n=1" and math.isnan(c.p) and math.isnan(c.diff_low)
    assert c.diff == pytest.approx(0.125)
    assert verdict(c.diff, c.p, "maximize") == "no evidence"


def test_no_spread_at_all():
    same = compare_samples(pd.Series([1.0, 1.0, 1.0]), pd.Series([1.0, 1.0, 1.0]))
    assert (same.p, same.diff, same.diff_low) == (1.0, 0.0, 0.0)
    # 2 pairs: the exact sign-flip test's smallest p is 2 / 2^2 (tested below)
    apart = compare_samples(pd.Series([0.5, 0.5]), pd.Series([1.0, 1.0]))
    assert apart.p == 0.5 and apart.test == "paired permutation (exact)"
    assert verdict(apart.diff, apart.p, "maximize") == "no evidence"
    apart = compare_samples(pd.Series([0.5] * 6), pd.Series([1.0] * 6))
    assert apart.p == pytest.approx(2 / 2**6) and verdict(apart.diff, apart.p, "maximize") == (
        "B better"
    )


def test_skewed_samples_of_ten_use_the_bootstrap_deterministically():
    # accuracies piled at 1.0 with one bad seed: far from normal
    a = pd.Series([1.0] * 11 + [0.6], index=range(12))
    b = pd.Series([0.90, 0.91, 0.92, 0.90, 0.93, 0.91, 0.92, 0.90, 0.91, 0.92, 0.93, 0.90])
    b.index = range(20, 32)  # other seeds: independent samples
    c = compare_samples(a, b)
    assert c.test == "permutation, BCa CI"
    assert c.diff_low < c.diff < c.diff_high
    assert c == compare_samples(a, b)  # seeded
    paired = compare_samples(a, b.set_axis(range(12)))
    assert paired.test == "paired permutation, BCa CI" and 0 <= paired.p <= 1


def test_holm_by_hand_and_with_nan():
    # sorted 0.01, 0.02, 0.03, 0.04 with m = 4: 0.04, 0.06, max(0.06, 0.06), max(0.06, 0.04)
    assert holm([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    out = holm([0.01, float("nan"), 0.5])
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1]) and out[2] == pytest.approx(0.5)
    assert holm([0.3, 0.04]) == pytest.approx([0.3, 0.08])
    assert holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert len(holm([])) == 0


def test_verdicts_follow_each_metrics_direction():
    assert metric_direction("test_accuracy") == "maximize"
    assert metric_direction("val_loss") == "minimize"
    assert metric_direction("wall_seconds") == "minimize"
    assert metric_direction("objective", "minimize") == "minimize"
    assert metric_direction("objective", None) is None
    assert metric_direction("parameters") is None
    assert verdict(0.1, 0.01, "maximize") == "B better"
    assert verdict(0.1, 0.01, "minimize") == "A better"
    assert verdict(-0.1, 0.01, "minimize") == "B better"
    assert verdict(0.1, 0.2, "maximize") == "no evidence"
    assert verdict(0.1, 0.01, None) == "B higher"
    assert verdict(0.1, float("nan"), "maximize") == "no evidence"


def test_clearly_different_vs_identical_inputs():
    rng = np.random.default_rng(3)
    a = pd.Series(rng.normal(0.80, 0.01, 5))
    b = pd.Series(rng.normal(0.90, 0.01, 5))
    c = compare_samples(a, b)
    assert verdict(c.diff, c.p, "maximize") == "B better"
    c = compare_samples(a, a.copy())
    assert c.p == 1.0 and verdict(c.diff, c.p, "maximize") == "no evidence"


def test_split_names():
    assert metric_split("val_accuracy") == "validation split"
    assert metric_split("test_accuracy") == "test split"


def test_by_config_matches_numpy_and_counts_failed_jobs():
    rows = pd.DataFrame(
        {
            "job": range(7),
            "loss": ["mse"] * 4 + ["ce"] * 3,
            "seed": [0, 1, 2, 3, 0, 1, 2],
            "status": ["ok", "ok", "ok", "failed", "ok", "ok", "ok"],
            "objective": [0.7, 0.8, 0.9, -np.inf, 0.5, np.nan, 0.6],
            "model.hidden": [3] * 7,  # a run setting (a dotted key), not a metric
        }
    )
    assert metric_columns(rows, ["loss", "seed"]) == ["objective"]
    table = by_config(rows, ["loss"], ["objective"]).set_index("loss")
    assert table.loc["mse", "jobs"] == 4 and table.loc["mse", "failed"] == 1
    assert table.loc["mse", "objective_n"] == 3
    assert table.loc["mse", "objective_mean"] == pytest.approx(0.8)
    assert table.loc["mse", "objective_std"] == pytest.approx(np.std([0.7, 0.8, 0.9], ddof=1))
    low, high = sps.t.interval(0.95, 2, loc=0.8, scale=0.1 / math.sqrt(3))
    assert table.loc["mse", "objective_ci_low"] == pytest.approx(low)
    assert table.loc["mse", "objective_ci_high"] == pytest.approx(high)
    assert table.loc["ce", "objective_n"] == 2  # the NaN only lowers n


def test_nearly_identical_samples_compare_without_scipy_warnings():
    import warnings

    from sweeper.reports.stats import compare_samples

    a = pd.Series([0.5, 0.5, 0.5 + 1e-16, 0.5], index=[0, 1, 2, 3])
    b = pd.Series([0.5, 0.5, 0.5, 0.5 - 1e-16, 0.5], index=[0, 1, 2, 3, 4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare_samples(a, b)


A_VARIES = [0.70, 0.75, 0.80, 0.72, 0.78]

# --- the t-test is left only where its own variance is zero ---


def test_one_constant_side_paired_is_a_paired_t_test_as_scipy_gives():
    a, b = pd.Series(A_VARIES), pd.Series([1.0] * 5)  # seeds 0-4 on both sides
    c = compare_samples(a, b)
    expected = sps.ttest_rel(b, a).pvalue
    assert c.test == "paired t" and c.p == pytest.approx(expected) and c.p < 0.001
    assert verdict(c.diff, c.p, "maximize") == "B better"
    d = b - a
    half = sps.t.ppf(0.975, 4) * d.std(ddof=1) / math.sqrt(5)
    assert (c.diff_low, c.diff_high) == pytest.approx((d.mean() - half, d.mean() + half))
    # one B at 0.999 instead of 1.0 gives the same test and verdict (it used to flip them)
    nearly = compare_samples(a, pd.Series([1.0, 1.0, 1.0, 1.0, 0.999]))
    assert nearly.test == c.test and verdict(nearly.diff, nearly.p, "maximize") == "B better"


def test_one_constant_side_unpaired_is_welch_as_scipy_gives():
    a = pd.Series(A_VARIES, index=range(5))
    b = pd.Series([1.0] * 5, index=range(5, 10))  # other seeds: not paired
    c = compare_samples(a, b)
    with warnings.catch_warnings():  # scipy's note on B's (zero) spread
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = sps.ttest_ind(b, a, equal_var=False).pvalue
    assert c.test == "Welch t" and c.p == pytest.approx(expected)
    assert c.diff_low < c.diff < c.diff_high and verdict(c.diff, c.p, "maximize") == "B better"


@pytest.mark.parametrize(
    ("b_index", "test", "p"),
    [
        (range(5), "paired permutation (exact)", 2 / 2**5),
        (range(5, 10), "permutation (exact)", 2 / math.comb(10, 5)),
    ],
)
def test_constant_against_constant_is_the_exact_test(b_index, test, p):
    c = compare_samples(pd.Series([0.5] * 5), pd.Series([1.0] * 5, index=b_index))
    assert c.test == test and c.p == pytest.approx(p) and c.diff_low == c.diff_high == 0.5


def test_equal_paired_differences_with_varying_sides_are_the_exact_test():
    a = pd.Series(A_VARIES)
    c = compare_samples(a, a + 0.1)  # every difference 0.1 (up to float noise)
    assert c.test == "paired permutation (exact)" and c.p == pytest.approx(2 / 2**5)


@pytest.mark.parametrize("b_index", [range(5), range(5, 10)])
def test_identical_sides_give_p_1(b_index):
    c = compare_samples(pd.Series([1.0] * 5), pd.Series([1.0] * 5, index=b_index))
    assert c.p == 1.0 and c.diff == 0.0 and verdict(c.diff, c.p, "maximize") == "no evidence"


def test_a_skewed_side_against_a_constant_one_is_still_the_bootstrap():
    a = pd.Series([1.0] * 12, index=range(12))
    b = pd.Series([1.0] * 11 + [0.5], index=range(12, 24))
    c = compare_samples(a, b)
    assert c.test == "permutation, BCa CI"


def test_compare_prints_paired_t_and_b_better_for_a_constant_side(tmp_path, capsys):
    rows = []
    for values in (A_VARIES, [1.0] * 5):
        rows.append(
            [
                {
                    "model.hidden": 5,
                    "seed": seed,
                    "status": "ok",
                    "objective": v,
                    "objective_metric": "test_accuracy",
                    "objective_direction": "maximize",
                    "test_accuracy": v,
                }
                for seed, v in enumerate(values)
            ]
        )
    a = results_csv(tmp_path / "a.csv", rows[0], ["model.hidden", "seed"])
    b = results_csv(tmp_path / "b.csv", rows[1], ["model.hidden", "seed"])
    out = tmp_path / "cmp.csv"
    code, text, err = run_compare(a, b, "--metrics", "test_accuracy", "--out", out, capsys=capsys)
    assert code == 0, err
    row = pd.read_csv(out).iloc[0]
    assert row["test"] == "paired t" and row["verdict"] == "B better"
    assert row["p (Holm)"] == pytest.approx(sps.ttest_rel([1.0] * 5, A_VARIES).pvalue)
    assert "paired t" in text and "B better" in text and "exact" not in text


# --- edges a new user hits ---

# --- zero variance: an exact permutation test, never p = 0 ---


@pytest.mark.parametrize(
    ("a_seeds", "b_seeds", "test", "smallest"),
    [
        (range(3), range(3), "paired permutation (exact)", 2 / 2**3),  # all signs alike
        (range(3), range(3, 6), "permutation (exact)", 2 / math.comb(6, 3)),  # one split
        (range(5), range(5, 10), "permutation (exact)", 2 / math.comb(10, 5)),
    ],
)
def test_constant_different_sides_get_the_smallest_exact_p(a_seeds, b_seeds, test, smallest):
    a = pd.Series([1.0] * len(a_seeds), index=list(a_seeds))
    b = pd.Series([0.99] * len(b_seeds), index=list(b_seeds))
    c = compare_samples(a, b)
    assert c.test == test and c.p == pytest.approx(smallest) and c.p > 0
    assert c.diff == pytest.approx(-0.01) and c.diff_low == c.diff_high == c.diff


def test_identical_constant_sides_are_no_evidence_with_p_1():
    for b_index in (range(3), range(3, 6)):  # paired and not
        c = compare_samples(pd.Series([1.0] * 3), pd.Series([1.0] * 3, index=b_index))
        assert c.p == 1.0 and c.diff == 0.0 and c.test.endswith("permutation (exact)")
        assert verdict(c.diff, c.p, "maximize") == "no evidence"


def test_equal_paired_differences_up_to_float_noise_are_constant():
    # 0.2 - 0.1 and 0.3 - 0.2 differ in the 17th digit: t would give p ~ 1e-15
    a = pd.Series([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    b = pd.Series([0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    c = compare_samples(a, b)
    assert c.test == "paired permutation (exact)" and c.p == pytest.approx(2 / 2**6)


def test_one_constant_side_keeps_welchs_t_test_as_scipy_gives():
    # Welch's t is undefined only when both sides are constant: B's spread is enough
    a = pd.Series([1.0] * 4, index=range(4))
    b = pd.Series([0.95, 0.97, 0.96, 0.99], index=range(4, 8))
    c = compare_samples(a, b)
    with warnings.catch_warnings():  # scipy's note on A's (zero) spread
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = sps.ttest_ind(b.to_numpy(), a.to_numpy(), equal_var=False).pvalue
    assert c.test == "Welch t" and c.p == pytest.approx(expected)
    assert c.diff_low < c.diff < c.diff_high  # B's spread gives an interval


def test_compare_says_which_test_ran_for_constant_sides(tmp_path, capsys):
    keys = ["model.hidden", "seed"]
    a_rows, b_rows = grid("model.hidden", {}, noise=0), grid("model.hidden", {}, noise=0)
    for row in b_rows:
        row.update(objective=0.79, test_accuracy=0.79)
    a = results_csv(tmp_path / "a.csv", a_rows, keys)
    b = results_csv(tmp_path / "b.csv", b_rows, keys)
    out = tmp_path / "cmp.csv"
    code, text, _ = run_compare(a, b, "--metrics", "test_accuracy", "--out", out, capsys=capsys)
    assert code == 0 and "paired permutation (exact)" in text
    table = pd.read_csv(out)
    assert (table["p"] == 2 / 2**5).all() and (table["p (Holm)"] > 0).all()
    same = results_csv(tmp_path / "copy.csv", a_rows, keys)  # a copy: compared, with a warning
    code, text, _ = run_compare(a, same, "--metrics", "test_accuracy", "--out", out, capsys=capsys)
    table = pd.read_csv(out)
    assert (table["p"] == 1).all() and (table["verdict"] == "no evidence").all()


# --- bounds clipped to the metric's range, half-width kept ---


def test_accuracy_bounds_are_clipped_and_the_half_width_is_the_t_one():
    s = summarize([1.0, 1.0, 0.9], metric_range("test_accuracy"))
    half = sps.t.ppf(0.975, 2) * np.std([1.0, 1.0, 0.9], ddof=1) / math.sqrt(3)
    assert s.high == 1.0 and s.low == pytest.approx(s.mean - half)
    assert s.half_width == pytest.approx(half) and s.mean == pytest.approx(2.9 / 3)
    assert format_summary(s) == f"0.9667 ± {half:.4f} (3)"
    loss = summarize([0.01, 0.02, 0.2], metric_range("val_loss"))
    assert loss.low == 0.0 and loss.high > 0.2
    assert summarize([1.0, 1.0, 0.9]).high > 1  # no range given: not clipped
    percent = summarize([100.0, 99.0, 90.0], metric_range("test_accuracy"))
    assert percent.high > 100  # values outside [0, 1]: not an accuracy in [0, 1]
    assert metric_range("objective", "val_accuracy") == (0.0, 1.0)
    assert metric_range("objective") is None and metric_range("parameters_x") is None


def test_results_by_config_and_compare_clip_bounds(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    for num, value in enumerate((1.0, 1.0, 0.9)):
        metrics = {"test_accuracy": value, "val_loss": [0.01, 0.02, 0.2][num], "epochs_run": 2}
        record = dict(GOOD_RECORD, objective=value, metrics=metrics)
        fake_job(sweep / str(num), num, [f"seed={num}"], record=record)
    assert collect_module.main([str(sweep)]) == 0
    capsys.readouterr()
    row = pd.read_csv(sweep / "results_by_config.csv").iloc[0]
    for metric in ("objective", "test_accuracy"):
        assert row[f"{metric}_ci_high"] == 1.0 and row[f"{metric}_ci_low"] < row[f"{metric}_mean"]
    assert row["val_loss_ci_low"] == 0.0
    half = sps.t.ppf(0.975, 2) * np.std([1.0, 1.0, 0.9], ddof=1) / math.sqrt(3)
    assert f"0.9667 ± {half:.4f} (3)" in (sweep / "summary.md").read_text()
    assert f"0.9667 ± {half:.4f} (3)" in (sweep / "report.html").read_text()
    # compare: both sides' bounds clipped, the printed half-width the t one
    other = tmp_path / "other"
    for num, value in enumerate((1.0, 0.9, 1.0)):
        record = dict(GOOD_RECORD, objective=value, metrics={"test_accuracy": value})
        fake_job(other / str(num), num, [f"seed={num}"], record=record)
    out = tmp_path / "cmp.csv"
    code, text, _ = run_compare(
        sweep, other, "--metrics", "test_accuracy", "--out", out, capsys=capsys
    )
    row = pd.read_csv(out).iloc[0]
    assert code == 0 and row["A ci_high"] == 1.0 and row["B ci_high"] == 1.0
    assert text.count(f"0.9667 ± {half:.4f} (3)") == 2


# --- no value: counted with the failed jobs, named once, never averaged ---


def nan_sweep(tmp_path: Path) -> Path:
    """loss=mse x seed 0..3: job 1's test_accuracy NaN, job 2's null, job 3's missing;
    loss=ce x seed 0..2 complete; job 7 failed."""
    sweep = tmp_path / "sweep"
    values = {0: 0.9, 1: math.nan, 2: None, 3: "missing"}
    for seed, value in values.items():
        metrics = {"val_loss": 0.5, "epochs_run": 2}
        if value != "missing":
            metrics["test_accuracy"] = value
        record = dict(GOOD_RECORD, objective=0.8, objective_metric="val_accuracy")
        record["metrics"] = dict(metrics, val_accuracy=0.8)
        fake_job(sweep / str(seed), seed, ["loss=mse", f"seed={seed}"], record=record)
    for seed in range(3):
        metrics = {"test_accuracy": 0.6 + seed / 100, "val_loss": 0.5, "epochs_run": 2}
        record = dict(GOOD_RECORD, objective=0.7, objective_metric="val_accuracy")
        record["metrics"] = dict(metrics, val_accuracy=0.7)
        fake_job(sweep / str(4 + seed), 4 + seed, ["loss=ce", f"seed={seed}"], record=record)
    failed = dict(GOOD_RECORD, status="failed", reason="nan loss", objective=-math.inf, metrics={})
    fake_job(sweep / "7", 7, ["loss=ce", "seed=3"], record=failed)
    return sweep


def test_no_value_in_results_by_config_summary_and_terminal(tmp_path, capsys):
    sweep = nan_sweep(tmp_path)
    assert collect_module.main([str(sweep)]) == 0
    out = capsys.readouterr().out
    table = pd.read_csv(sweep / "results_by_config.csv").set_index("loss")
    mse, ce = table.loc["mse"], table.loc["ce"]
    assert mse["test_accuracy_n"] == 1 and mse["test_accuracy_mean"] == 0.9
    assert mse["test_accuracy_failed"] == 3 and mse["failed"] == 0
    assert ce["test_accuracy_failed"] == 1 and ce["failed"] == 1 and ce["test_accuracy_n"] == 3
    for _, row in table.iterrows():  # every job is counted once per metric
        assert row["jobs"] == row["pruned"] + row["test_accuracy_n"] + row["test_accuracy_failed"]
    summary = (sweep / "summary.md").read_text()
    assert summary.count("): no value of") == 3 and out.count("): no value of") == 3
    for job in ("1", "2", "3"):
        line = f"job {job} (loss=mse, seed={job}): no value of test_accuracy (NaN, inf, null or"
        assert out.count(line) == 1 and summary.count(line) == 1
    assert "Traceback" not in out and "nan" not in out.lower().replace("nan, inf, null", "")
    page = (sweep / "report.html").read_text()
    assert "Jobs with no value of a metric (3)" in page and "Pruned trials" not in page
    assert "job 7 (loss=ce, seed=3)" in page.split("Failed jobs (1)")[1]


def test_an_infinite_metric_of_an_ok_job_is_no_value_too(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    for seed in range(3):
        fake_job(sweep / str(seed), seed, [f"seed={seed}"])
    text = (sweep / "2" / "metrics.json").read_text()
    (sweep / "2" / "metrics.json").write_text(
        text.replace('"val_loss": 0.5', '"val_loss": Infinity')
    )
    assert collect_module.main([str(sweep)]) == 0
    out = capsys.readouterr().out
    row = pd.read_csv(sweep / "results_by_config.csv").iloc[0]
    assert (row["val_loss_n"], row["val_loss_failed"], row["val_loss_mean"]) == (2, 1, 0.5)
    assert "job 2 (seed=2): no value of val_loss (NaN, inf, null or missing)" in out


def test_no_value_counts_as_failed_on_both_sides_of_compare(tmp_path, capsys):
    sweep = nan_sweep(tmp_path)
    out = tmp_path / "cmp.csv"
    code, text, err = run_compare(
        sweep, "--by", "loss", "--metrics", "test_accuracy", "--out", out, capsys=capsys
    )
    assert code == 0, err
    row = pd.read_csv(out).iloc[0]
    assert (row["A n"], row["A failed"], row["B n"], row["B failed"]) == (1, 3, 3, 1)
    assert text.count("jobs 1, 2, 3") == 1 and "test_accuracy has no value" in text
    # two inputs: the side with NaN values is named, its count in its own column
    keys = ["model.hidden", "seed"]
    a = results_csv(tmp_path / "a.csv", grid("model.hidden", {}), keys)
    rows = grid("model.hidden", {}, rng_seed=1)
    rows[0]["test_accuracy"] = math.nan
    rows[1].pop("test_accuracy")  # an empty cell
    b = results_csv(tmp_path / "b.csv", rows, keys)
    code, text, _ = run_compare(b, a, "--metrics", "test_accuracy", "--out", out, capsys=capsys)
    row = pd.read_csv(out).set_index("model.hidden").loc[3]
    assert (row["A n"], row["A failed"], row["B failed"]) == (3, 2, 0)
    assert "A: test_accuracy has no value (NaN, inf, null or missing) in 2 of 15 ok jobs" in text


def test_a_metric_another_task_never_records_is_not_no_value():
    rows = pd.DataFrame(
        {
            "status": ["ok"] * 4,
            "task.name": ["adder", "adder", "mnist", "mnist"],
            "extrapolation_accuracy": [0.9, math.nan, math.nan, math.nan],
        }
    )
    flags = no_value(rows, ["extrapolation_accuracy"])["extrapolation_accuracy"]
    assert flags.tolist() == [False, True, False, False]
    # no finite value anywhere: the jobs recorded it as NaN or null, every one is flagged
    rows["extrapolation_accuracy"] = math.nan
    assert no_value(rows, ["extrapolation_accuracy"]).all(axis=None)


def test_a_metric_null_in_every_job_is_still_a_counted_metric(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    for seed in range(2):
        record = dict(GOOD_RECORD, metrics={"test_accuracy": None, "val_loss": 0.5})
        fake_job(sweep / str(seed), seed, [f"seed={seed}"], record=record)
    assert collect_module.main([str(sweep)]) == 0
    out = capsys.readouterr().out
    row = pd.read_csv(sweep / "results_by_config.csv").iloc[0]
    assert (row["test_accuracy_n"], row["test_accuracy_failed"]) == (0, 2)
    assert out.count("no value of test_accuracy") == 2


# --- pruned jobs: integers, apart from the failed ones ---


def test_pruned_counts_are_integers_and_apart_from_failed(tmp_path, capsys):
    rows = pd.DataFrame(
        {
            "job": range(6),
            "lr": [0.1, 0.1, 0.1, 0.2, 0.2, 0.2],
            "seed": [0, 1, 2, 0, 1, 2],
            "status": ["ok", "pruned", "failed", "ok", "ok", "ok"],
            "objective": [0.8, 0.5, -math.inf, 0.7, 0.71, 0.72],
        }
    )
    table = by_config(rows, ["lr"], ["objective"])
    assert table["pruned"].tolist() == [1, 0] and table["failed"].tolist() == [1, 0]
    assert table["pruned"].dtype.kind == "i" and table["objective_failed"].tolist() == [1, 0]
    path = tmp_path / "r.csv"
    rows.assign(objective_metric="val_accuracy", objective_direction="maximize").to_csv(
        path, index=False
    )
    out = tmp_path / "cmp.csv"
    code, text, err = run_compare(path, "--by", "lr", "--out", out, capsys=capsys)
    assert code == 0, err
    row = pd.read_csv(out).iloc[0]
    assert (row["A failed"], row["A pruned"], row["A n"]) == (1, 1, 1)
    assert "A pruned" in text and "A failed" in text


def test_compare_help_says_pruned_is_counted_apart(capsys):
    from sweeper import compare as compare_module

    with pytest.raises(SystemExit):
        compare_module.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "A pruned" in text and "not counted as failed" in text


# --- every header says what it compares ---


def test_compare_by_header_names_levels_keys_metric_and_split(tmp_path, capsys):
    rows = []
    for loss, shift in (("mse", 0.0), ("ce", 0.1)):
        for row in grid("model.hidden", {}, rng_seed=len(rows)):
            rows.append(dict(row, loss=loss, objective=row["objective"] + shift))
    path = results_csv(tmp_path / "r.csv", rows, ["model.hidden", "loss", "seed"])
    code, text, _ = run_compare(path, "--by", "loss", capsys=capsys)
    assert code == 0
    assert "loss: mse (A) vs ce (B) at each model.hidden" in text
    assert "objective (test_accuracy, test split)" in text
    assert "test_accuracy (test split)" in text


def test_a_json_nan_metric_from_a_real_metrics_file_is_read_as_no_value(tmp_path):
    sweep = tmp_path / "sweep"
    for seed in range(2):
        fake_job(sweep / str(seed), seed, [f"seed={seed}"])
    (sweep / "1" / "metrics.json").write_text(
        json.dumps(dict(GOOD_RECORD, metrics={"test_accuracy": math.nan, "val_loss": 0.5}))
    )
    table = collect_module.results_by_config(collect_module.load_sweep(sweep))
    assert table.loc[0, "test_accuracy_n"] == 1 and table.loc[0, "test_accuracy_failed"] == 1


# --- report.html says what its pivot's cells are ---


def test_report_pivot_has_the_legend_and_the_best_configuration(tmp_path, capsys):
    import html as html_module
    import re

    sweep = tmp_path / "sweep"
    values = {("mse", 0): 0.95, ("mse", 1): 0.5, ("mse", 2): 0.5}
    values |= {("ce", 0): 0.8, ("ce", 1): 0.81, ("ce", 2): 0.79}
    for num, ((loss, seed), value) in enumerate(values.items()):
        record = dict(GOOD_RECORD, objective=value, metrics={"test_accuracy": value})
        fake_job(sweep / str(num), num, [f"loss={loss}", f"seed={seed}"], record=record)
    assert collect_module.main([str(sweep)]) == 0
    terminal = capsys.readouterr().out
    page = (sweep / "report.html").read_text()
    section = page[page.index('id="summary-section"') :]
    text = html_module.unescape(re.sub(r"<[^>]+>", " ", section[: section.index("</section>")]))
    text = " ".join(text.split())
    summary = (sweep / "summary.md").read_text()
    legend = "objective: test_accuracy (test split), mean ± 95 % CI half-width (n) over seed"
    best = next(x for x in summary.splitlines() if x.startswith("Best configuration by mean"))
    assert "loss=ce" in best and legend in summary
    assert legend in text and best in text
    assert text.index(legend) < text.index("0.8000 ±")  # above the table
    assert legend in terminal and best in terminal  # the terminal table says the same


def test_a_loss_band_stops_at_0_and_a_percent_accuracy_band_is_not_clipped():

    from sweeper.reports.plots import _mean_with_band

    rows = pd.DataFrame(
        {"job": ["0", "1", "2"], "epoch": [1, 1, 1], "val_loss": [0.01, 0.02, 0.2]}
    ).assign(val_accuracy=[100.0, 99.0, 90.0])  # a custom task's accuracy in percent
    assert summarize(rows["val_loss"]).low < 0
    ax = Figure().subplots()
    _mean_with_band(ax, pd.concat([rows, rows.assign(epoch=2)]), "epoch", "val_loss")
    assert ax.collections[0].get_paths()[0].vertices[:, 1].min() == 0.0
    ax = Figure().subplots()
    _mean_with_band(ax, pd.concat([rows, rows.assign(epoch=2)]), "epoch", "val_accuracy")
    assert ax.collections[0].get_paths()[0].vertices[:, 1].max() > 100
