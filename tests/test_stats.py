"""sweeper.reports.stats against hand-computed values, scipy as the reference, and simulation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from sweeper.reports.stats import (
    by_config,
    compare_samples,
    format_summary,
    holm,
    metric_columns,
    metric_direction,
    metric_split,
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
    # 2 pairs: the exact sign-flip test's smallest p is 2 / 2^2 (tests/test_stats_edges.py)
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
