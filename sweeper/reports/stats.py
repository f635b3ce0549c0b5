"""How sure a number is: per-configuration summaries and two-sample comparisons.

Used by `sweeper.collect` (results_by_config.csv, the `mean ± half-width (n)`
cells), `sweeper.compare` (tests, Holm, verdicts), `sweeper.reports.plots` (bands) and
`sweeper.confirm`.

Rules, in one place:

- A summary of n values (NaN left out) is mean, sample standard deviation
  (ddof=1) and a Student-t 95 % confidence interval for the mean
  (`scipy.stats.t.interval`). n = 1 has no spread and no interval: std and the
  bounds are NaN and the cell reads `0.9000 (n=1)`.
- Two samples A and B (B - A is the difference reported):
  * n < 2 on either side: no test (`n=1`), verdict `no evidence`.
  * the same replicate ids (seeds) on both sides, each once: paired, on the
    per-seed differences (`scipy.stats.ttest_rel`); same seed means same
    initialisation and data stream, so pairing removes that noise.
  * otherwise Welch's t-test (`scipy.stats.ttest_ind(equal_var=False)`) with the
    Welch-Satterthwaite interval for the difference.
  * the normal approximation is poor when the values are strongly skewed
    (accuracies piled at 1.0 with one bad seed). With at least
    `BOOTSTRAP_MIN_N` values a side and |skewness| > `BOOTSTRAP_SKEW` (of the
    differences when paired, else of either side) the interval of the
    difference is a BCa bootstrap (`scipy.stats.bootstrap`) and the p-value a
    permutation test (`scipy.stats.permutation_test`), both seeded, so the same
    input gives the same table. Below that n a bootstrap is no better than t
    (it under-covers at n = 5), so t is used and the skew is the reader's to see.
  * no spread at all (every seed gives the same number on both sides, or the
    same paired difference): p = 1 if the difference is 0, else 0 (the limit
    of the t statistic); the interval is the point.
- Holm's step-down correction over a family of p-values (scipy has no Holm:
  `false_discovery_control` is Benjamini-Hochberg/Yekutieli, statsmodels is not
  a dependency, and Holm is five lines: `holm`).
- Verdict at alpha = 0.05 on the Holm-adjusted p: `A better` / `B better` by
  the metric's direction (`metric_direction`), else `no evidence`. A metric
  with no known direction reads `A higher` / `B higher`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

CONFIDENCE = 0.95
ALPHA = 0.05
BOOTSTRAP_MIN_N = 10
BOOTSTRAP_SKEW = 1.0
RESAMPLES = 9999
SEED = 0  # the bootstrap's and permutation test's generator: same input, same table

# Columns of results.csv that are not metrics: bookkeeping. The run settings
# metrics.json records are dotted config keys (`model.hidden`, `trainer.epochs`,
# sweeper.core.train.SETTING_KEYS), and no metric name has a dot, so those are left out too.
NOT_METRICS = {
    "job",
    "status",
    "reason",
    "job_dir",
    "objective_metric",
    "objective_direction",
    "resumed_from_epoch",
    "parameters",
    "seed",
}


@dataclass(frozen=True)
class Summary:
    """n finite values: mean, sample std and the Student-t 95 % interval (NaN when n < 2)."""

    n: int
    mean: float
    std: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        """Half the interval's width; NaN when n < 2."""
        return (self.high - self.low) / 2


def summarize(values: Sequence[float] | np.ndarray | pd.Series) -> Summary:
    """Mean, std (ddof=1), n and the 95 % Student-t interval of the finite values.

    NaN and ±inf are left out (n counts what is left). n = 0 gives NaN
    everywhere; n = 1 gives the value as mean and NaN std and bounds."""
    x = _finite(values)
    n = len(x)
    if n == 0:
        return Summary(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return Summary(1, mean, math.nan, math.nan, math.nan)
    std = float(x.std(ddof=1))
    if std == 0:
        return Summary(n, mean, 0.0, mean, mean)
    low, high = sps.t.interval(CONFIDENCE, n - 1, loc=mean, scale=std / math.sqrt(n))
    return Summary(n, mean, std, float(low), float(high))


def format_summary(summary: Summary, digits: int = 4) -> str:
    """`0.9123 ± 0.0123 (5)`; `0.9000 (n=1)`; `–` when there is no value."""
    if summary.n == 0:
        return "–"
    if summary.n == 1:
        return f"{summary.mean:.{digits}f} (n=1)"
    return f"{summary.mean:.{digits}f} ± {summary.half_width:.{digits}f} ({summary.n})"


def _finite(values: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    x = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(float)
    return x[np.isfinite(x)]


def metric_columns(results: pd.DataFrame, keys: Sequence[str] = ()) -> list[str]:
    """The numeric metric columns of a results table: objective first, then as they come.

    Leaves out override keys, run settings (dotted keys) and bookkeeping (`NOT_METRICS`)."""
    columns = [
        c
        for c in results.columns
        if c not in NOT_METRICS
        and "." not in c
        and c not in keys
        and pd.api.types.is_numeric_dtype(results[c])
        and not pd.api.types.is_bool_dtype(results[c])
    ]
    return sorted(columns, key=lambda c: c != "objective")


def metric_direction(metric: str, objective_direction: str | None = None) -> str | None:
    """`maximize` for accuracies, `minimize` for losses, seconds and epochs, the objective's
    own direction for `objective`; None when unknown."""
    if metric == "objective":
        return objective_direction if objective_direction in ("maximize", "minimize") else None
    if "accuracy" in metric:
        return "maximize"
    if "loss" in metric or "seconds" in metric or metric in ("epochs_run", "best_epoch"):
        return "minimize"
    return None


def metric_split(metric: str) -> str:
    """Which data a metric was measured on: `validation split`, `test split`, ..."""
    for prefix, split in (
        ("val_", "validation split"),
        ("test_", "test split"),
        ("extrapolation_", "test, lengths beyond training"),
        ("train_", "training split"),
    ):
        if metric.startswith(prefix):
            return split
    return "run"


def by_config(
    results: pd.DataFrame,
    keys: Sequence[str],
    metrics: Sequence[str],
    status_column: str = "status",
) -> pd.DataFrame:
    """One row per configuration (a combination of `keys`): jobs, failed, and per metric
    `<m>_mean`, `<m>_std`, `<m>_n`, `<m>_ci_low`, `<m>_ci_high`.

    Jobs whose status is not `ok` are left out of the statistics and counted in
    `failed` (`pruned`, a column only where a search pruned some, for those stopped by
    its pruner); a NaN metric only lowers that metric's n. No keys: one row, all jobs."""
    keys = list(keys)
    frame = results.copy()
    ok = frame[status_column] == "ok" if status_column in frame else pd.Series(True, frame.index)
    frame["__ok"] = ok
    groups = frame.groupby(keys, sort=False, dropna=False) if keys else [((), frame)]
    rows = []
    for values, group in groups:
        values = values if isinstance(values, tuple) else (values,)
        good = group[group["__ok"]]
        pruned = int((group[status_column] == "pruned").sum()) if status_column in group else 0
        failed = int((~group["__ok"]).sum()) - pruned  # a search's pruned trial did not fail
        row = {**dict(zip(keys, values)), "jobs": len(group), "failed": failed}
        if pruned:
            row["pruned"] = pruned
        for metric in metrics:
            s = summarize(good[metric])
            row.update(
                {
                    f"{metric}_mean": s.mean,
                    f"{metric}_std": s.std,
                    f"{metric}_n": s.n,
                    f"{metric}_ci_low": s.low,
                    f"{metric}_ci_high": s.high,
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Comparison:
    """A vs B for one metric: both summaries, B - A with its 95 % interval, the test and p."""

    a: Summary
    b: Summary
    diff: float
    diff_low: float
    diff_high: float
    test: str
    p: float


def compare_samples(a: pd.Series, b: pd.Series) -> Comparison:
    """Compare two samples whose index holds the replicate ids (seeds), see the module rules.

    NaN/inf values are left out. Pairs when both sides hold the same ids, each once.
    scipy's warning about nearly identical samples (precision loss) is not printed: the
    comparison's numbers say the same thing."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Precision loss occurred", category=RuntimeWarning
        )
        return _compare_samples(a, b)


def _compare_samples(a: pd.Series, b: pd.Series) -> Comparison:
    a, b = _clean(a), _clean(b)
    sa, sb = summarize(a), summarize(b)
    diff = sb.mean - sa.mean
    if sa.n < 2 or sb.n < 2:
        return Comparison(
            sa, sb, diff, math.nan, math.nan, "n=1" if min(sa.n, sb.n) else "-", math.nan
        )
    paired = a.index.is_unique and b.index.is_unique and set(a.index) == set(b.index)
    if paired:
        a = a.reindex(b.index)
        return _paired(sa, sb, a.to_numpy(float), b.to_numpy(float))
    return _welch(sa, sb, a.to_numpy(float), b.to_numpy(float))


def _clean(x: pd.Series) -> pd.Series:
    x = pd.to_numeric(pd.Series(x), errors="coerce").astype(float)
    return x[np.isfinite(x)]


def _skewed(*samples: np.ndarray) -> bool:
    for x in samples:
        if len(x) < BOOTSTRAP_MIN_N:
            return False
    for x in samples:
        if np.ptp(x) > 0 and abs(float(sps.skew(x))) > BOOTSTRAP_SKEW:
            return True
    return False


def _paired(sa: Summary, sb: Summary, a: np.ndarray, b: np.ndarray) -> Comparison:
    d = b - a
    mean = float(d.mean())
    if np.ptp(d) == 0:
        return Comparison(sa, sb, mean, mean, mean, "paired t", 0.0 if mean != 0 else 1.0)
    if _skewed(d):
        low, high = _bootstrap((d,), lambda x, axis: np.mean(x, axis=axis))
        p = sps.permutation_test(
            (d,),
            lambda x, axis: np.mean(x, axis=axis),
            permutation_type="samples",
            n_resamples=RESAMPLES,
            random_state=SEED,
        ).pvalue
        return Comparison(sa, sb, mean, low, high, "paired bootstrap", float(p))
    n = len(d)
    low, high = sps.t.interval(CONFIDENCE, n - 1, loc=mean, scale=d.std(ddof=1) / math.sqrt(n))
    p = sps.ttest_rel(b, a).pvalue
    return Comparison(sa, sb, mean, float(low), float(high), "paired t", float(p))


def _welch(sa: Summary, sb: Summary, a: np.ndarray, b: np.ndarray) -> Comparison:
    diff = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return Comparison(sa, sb, diff, diff, diff, "Welch t", 0.0 if diff != 0 else 1.0)
    if _skewed(a, b):
        low, high = _bootstrap(
            (b, a), lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis)
        )
        p = sps.permutation_test(
            (b, a),
            lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
            permutation_type="independent",
            n_resamples=RESAMPLES,
            random_state=SEED,
        ).pvalue
        return Comparison(sa, sb, diff, low, high, "bootstrap", float(p))
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    low, high = sps.t.interval(CONFIDENCE, df, loc=diff, scale=math.sqrt(va + vb))
    p = sps.ttest_ind(b, a, equal_var=False).pvalue
    return Comparison(sa, sb, diff, float(low), float(high), "Welch t", float(p))


def _bootstrap(samples: tuple[np.ndarray, ...], statistic) -> tuple[float, float]:
    """BCa interval (percentile where BCa is degenerate), seeded."""
    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ci = sps.bootstrap(
                samples,
                statistic,
                confidence_level=CONFIDENCE,
                n_resamples=RESAMPLES,
                method=method,
                random_state=SEED,
            ).confidence_interval
        if np.isfinite(ci.low) and np.isfinite(ci.high):
            break
    return float(ci.low), float(ci.high)


def holm(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values; NaN entries stay NaN and are not counted.

    Sorted ascending, the i-th of m (0-based) becomes max over j <= i of
    min(1, (m - j) p_j): reject where the adjusted p < alpha."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    order = idx[np.argsort(p[idx], kind="stable")]
    m = len(order)
    out[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return out


def verdict(diff: float, p_adjusted: float, direction: str | None, alpha: float = ALPHA) -> str:
    """`A better` / `B better` (B - A = diff) when p_adjusted < alpha, else `no evidence`.

    direction: `maximize`, `minimize`, or None (then `A higher` / `B higher`)."""
    if not (p_adjusted < alpha) or not np.isfinite(diff) or diff == 0:
        return "no evidence"
    if direction is None:
        return "B higher" if diff > 0 else "A higher"
    b_wins = diff > 0 if direction == "maximize" else diff < 0
    return "B better" if b_wins else "A better"
