"""How sure a number is: per-configuration summaries and two-sample comparisons.

Used by `sweeper.collect` (results_by_config.csv, the `mean ± half-width (n)`
cells), `sweeper.compare` (tests, Holm, verdicts), `sweeper.reports.plots` (bands) and
`sweeper.confirm`.

Rules, in one place:

- A summary of n values (NaN left out) is mean, sample standard deviation
  (ddof=1) and a Student-t 95 % confidence interval for the mean
  (`scipy.stats.t.interval`). n = 1 has no spread and no interval: std and the
  bounds are NaN and the cell reads `0.9000 (n=1)`.
- Bounded metrics (`metric_range`: accuracies lie in [0, 1], losses, seconds and
  counts are >= 0) get their interval's bounds clipped to that range (a t interval
  of 1.0, 1.0, 0.9 would reach 1.11); the mean and the half-width shown stay the
  t figures. A sample with a value outside the range (an accuracy in percent)
  is not clipped: the range is then not the metric's.
- No value: an ok job whose metric is NaN, infinite, null or missing, where other
  jobs of its task record that metric, is counted with the failed jobs of that
  metric (`no_value`), never averaged.
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
    input gives the same table (test `permutation, BCa CI` / `paired permutation,
    BCa CI`). Below that n a bootstrap is no better than t (it under-covers at
    n = 5), so t is used and the skew is the reader's to see.
  * the t statistic undefined: every paired difference the same (paired: its
    spread is 0; up to float noise, `constant`), or both sides constant
    (Welch: va + vb = 0). A t-test would divide by ~0 (p = 0), so the p-value
    is a permutation test (`scipy.stats.permutation_test`; exact, every
    relabelling, while there are at most `RESAMPLES` of them: 2^n sign flips
    paired, C(na + nb, na) splits unpaired), test `permutation (exact)` or
    `paired permutation (exact)`. Its smallest p is 2 / that count (0.1 for 3
    vs 3 unpaired, 0.25 for 3 pairs, 0.0625 for 5), never 0. Identical
    constant sides: p = 1, `no evidence`. The interval is the point. ONE
    constant side (every seed 1.0 against seeds that vary) is no such case:
    the t statistic still has the other side's spread (paired: the
    differences vary), so the t-test is used; an exact permutation test there
    could never go below 2 / 2^n and would call 0.75 vs 1.0 over five seeds
    `no evidence`.
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

from sweeper.core.metrics import split_description

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
        """The Student-t half-width t(0.975, n - 1) * std / sqrt(n); NaN when n < 2.

        Computed from std and n, not from the bounds, so it stays the t figure when
        the bounds are clipped to a metric's range."""
        if self.n < 2 or not np.isfinite(self.std):
            return math.nan
        if self.std == 0:
            return 0.0
        return float(sps.t.ppf((1 + CONFIDENCE) / 2, self.n - 1) * self.std / math.sqrt(self.n))


def summarize(
    values: Sequence[float] | np.ndarray | pd.Series,
    bounds: tuple[float, float] | None = None,
) -> Summary:
    """Mean, std (ddof=1), n and the 95 % Student-t interval of the finite values.

    NaN and ±inf are left out (n counts what is left). n = 0 gives NaN
    everywhere; n = 1 gives the value as mean and NaN std and bounds. `bounds`
    (low, high), e.g. `metric_range(metric)`: the interval's bounds are clipped to
    it when every value lies inside it (mean, std and half-width are not)."""
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
    low, high = clip_interval(float(low), float(high), x, bounds)
    return Summary(n, mean, std, low, high)


def clip_interval(
    low: float, high: float, values: np.ndarray, bounds: tuple[float, float] | None
) -> tuple[float, float]:
    """(low, high) clipped to `bounds` when every one of `values` lies inside them;
    unchanged without bounds or when a value lies outside (the range is not the metric's)."""
    if bounds is None or len(values) == 0:
        return low, high
    bottom, top = bounds
    if values.min() < bottom or values.max() > top:
        return low, high
    return float(max(low, bottom)), float(min(high, top))


def metric_range(metric: str, objective_metric: str | None = None) -> tuple[float, float] | None:
    """The values a metric can take by definition: (0, 1) for accuracies, (0, inf) for
    losses, seconds, epochs and parameter counts; None when unknown. `objective` takes
    the range of `objective_metric` (the metric a job's objective is)."""
    if metric == "objective":
        return metric_range(objective_metric) if objective_metric else None
    if "accuracy" in metric:
        return (0.0, 1.0)
    if (
        "loss" in metric
        or "seconds" in metric
        or metric in ("epochs_run", "best_epoch", "parameters")
    ):
        return (0.0, math.inf)
    return None


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
    """Which data a metric was measured on: `validation split`, `test split`, ...
    (`sweeper.core.metrics.split_description`, the one owner of that rule)."""
    return split_description(metric)


TASK_COLUMNS = ("task._target_", "task.name", "task")  # which task a job ran, best first


def no_value(results: pd.DataFrame, metrics: Sequence[str], status_column: str = "status"):
    """Which ok jobs have no value of each metric: a bool frame (results' index x metrics).

    No value: NaN, ±inf, null, an empty cell or a missing key, while some ok job of the
    same task (`TASK_COLUMNS`; the whole table without one) has a finite value of that
    metric: a metric no job of a task records (another task's) is not expected of it. A
    metric with no finite value in any job is expected of every job (its column is there
    because jobs recorded it, as NaN or null)."""
    ok = (
        results[status_column] == "ok"
        if status_column in results
        else pd.Series(True, index=results.index)
    )
    task_column = next((c for c in TASK_COLUMNS if c in results), None)
    tasks = (
        results[task_column].astype(str)
        if task_column
        else pd.Series("", index=results.index, dtype=object)
    )
    out = pd.DataFrame(False, index=results.index, columns=list(metrics))
    for metric in metrics:
        if metric not in results:
            continue
        values = pd.to_numeric(results[metric], errors="coerce").astype(float)
        finite = pd.Series(np.isfinite(values.to_numpy()), index=results.index)
        recorded = set(tasks[ok & finite]) or set(tasks)
        out[metric] = ok & ~finite & tasks.isin(recorded)
    return out


def by_config(
    results: pd.DataFrame,
    keys: Sequence[str],
    metrics: Sequence[str],
    status_column: str = "status",
) -> pd.DataFrame:
    """One row per configuration (a combination of `keys`): jobs, failed, pruned, and per
    metric `<m>_mean`, `<m>_std`, `<m>_n`, `<m>_failed`, `<m>_ci_low`, `<m>_ci_high`.

    Jobs whose status is not `ok` are left out of the statistics: `failed` counts those
    that failed, `pruned` those a search's pruner stopped (integers, 0 when none). An ok
    job with no value of a metric (`no_value`) is left out of that metric's statistics
    and counted in `<m>_failed` with the failed jobs, so jobs = pruned + `<m>_n` +
    `<m>_failed` for a metric every job of the task records. Bounds of bounded metrics
    are clipped to their range (`metric_range`; `objective` by the `objective_metric`
    column). No keys: one row, all jobs."""
    keys = list(keys)
    frame = results.copy()
    ok = frame[status_column] == "ok" if status_column in frame else pd.Series(True, frame.index)
    frame["__ok"] = ok
    missing = no_value(frame, metrics, status_column)
    objective_metric = None
    if "objective_metric" in frame:
        names = frame["objective_metric"].dropna().astype(str).unique()
        objective_metric = names[0] if len(names) == 1 else None
    groups = frame.groupby(keys, sort=False, dropna=False) if keys else [((), frame)]
    rows = []
    for values, group in groups:
        values = values if isinstance(values, tuple) else (values,)
        good = group[group["__ok"]]
        pruned = int((group[status_column] == "pruned").sum()) if status_column in group else 0
        failed = int((~group["__ok"]).sum()) - pruned  # a search's pruned trial did not fail
        row = {**dict(zip(keys, values)), "jobs": len(group), "failed": failed, "pruned": pruned}
        for metric in metrics:
            s = summarize(good[metric], metric_range(metric, objective_metric))
            row.update(
                {
                    f"{metric}_mean": s.mean,
                    f"{metric}_std": s.std,
                    f"{metric}_n": s.n,
                    f"{metric}_failed": failed + int(missing.loc[group.index, metric].sum()),
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


def compare_samples(
    a: pd.Series, b: pd.Series, bounds: tuple[float, float] | None = None
) -> Comparison:
    """Compare two samples whose index holds the replicate ids (seeds), see the module rules.

    NaN/inf values are left out. Pairs when both sides hold the same ids, each once.
    `bounds` (`metric_range`) clip each side's interval. scipy's warning about nearly
    identical samples (precision loss) is not printed: the comparison's numbers say the
    same thing."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="Precision loss occurred", category=RuntimeWarning
        )
        return _compare_samples(a, b, bounds)


def _compare_samples(a: pd.Series, b: pd.Series, bounds: tuple[float, float] | None) -> Comparison:
    a, b = _clean(a), _clean(b)
    sa, sb = summarize(a, bounds), summarize(b, bounds)
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


def constant(x: np.ndarray) -> bool:
    """Whether every value is the same, up to floating-point noise (1e-9 relative):
    0.3 - 0.2 and 0.2 - 0.1 are one difference, not a spread a t statistic may divide by."""
    return bool(np.ptp(x) <= 1e-9 * max(1.0, float(np.max(np.abs(x)))))


def _skewed(*samples: np.ndarray) -> bool:
    for x in samples:
        if len(x) < BOOTSTRAP_MIN_N:
            return False
    for x in samples:
        if np.ptp(x) > 0 and abs(float(sps.skew(x))) > BOOTSTRAP_SKEW:
            return True
    return False


def _mean_of(x: np.ndarray, axis: int) -> np.ndarray:
    return np.mean(x, axis=axis)


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def _permutation(samples: tuple[np.ndarray, ...], paired: bool) -> tuple[float, bool]:
    """(two-sided p, exact) of `scipy.stats.permutation_test` on the mean (paired: sign flips
    of the differences) or the difference of means (independent). Exact (every relabelling)
    while there are at most RESAMPLES of them, else RESAMPLES seeded random ones."""
    if paired:
        count = 2 ** len(samples[0])
        statistic, kind = _mean_of, "samples"
    else:
        count = math.comb(len(samples[0]) + len(samples[1]), len(samples[0]))
        statistic, kind = _mean_difference, "independent"
    result = sps.permutation_test(
        samples,
        statistic,
        permutation_type=kind,
        n_resamples=RESAMPLES,
        random_state=SEED,
    )
    return float(min(1.0, result.pvalue)), count <= RESAMPLES


def _permutation_name(paired: bool, exact: bool) -> str:
    return ("paired permutation" if paired else "permutation") + (" (exact)" if exact else "")


def _paired(sa: Summary, sb: Summary, a: np.ndarray, b: np.ndarray) -> Comparison:
    d = b - a
    mean = float(d.mean())
    n = len(d)
    # The paired t statistic divides by the spread of the differences: undefined only when
    # every difference is the same. A constant side (every seed 1.0) is no such case.
    if constant(d):
        if constant(np.concatenate([a, b])):  # identical constant sides
            return Comparison(sa, sb, 0.0, 0.0, 0.0, _permutation_name(True, True), 1.0)
        p, exact = _permutation((d,), paired=True)
        return Comparison(sa, sb, mean, mean, mean, _permutation_name(True, exact), p)
    if _skewed(d):
        low, high = _bootstrap((d,), _mean_of)
        p, _ = _permutation((d,), paired=True)
        return Comparison(sa, sb, mean, low, high, "paired permutation, BCa CI", p)
    low, high = sps.t.interval(CONFIDENCE, n - 1, loc=mean, scale=d.std(ddof=1) / math.sqrt(n))
    p = sps.ttest_rel(b, a).pvalue
    return Comparison(sa, sb, mean, float(low), float(high), "paired t", float(p))


def _welch(sa: Summary, sb: Summary, a: np.ndarray, b: np.ndarray) -> Comparison:
    diff = float(b.mean() - a.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    # Welch's statistic divides by sqrt(va + vb): undefined only when both sides are
    # constant. One constant side (every seed 1.0) leaves the other's spread: t is fine.
    if constant(a) and constant(b):
        if constant(np.concatenate([a, b])):  # identical constant sides
            return Comparison(sa, sb, 0.0, 0.0, 0.0, _permutation_name(False, True), 1.0)
        p, exact = _permutation((b, a), paired=False)
        return Comparison(sa, sb, diff, diff, diff, _permutation_name(False, exact), p)
    if _skewed(a, b):
        low, high = _bootstrap((b, a), _mean_difference)
        p, _ = _permutation((b, a), paired=False)
        return Comparison(sa, sb, diff, low, high, "permutation, BCa CI", p)
    low, high = _welch_interval(diff, va, vb, len(a), len(b))
    p = sps.ttest_ind(b, a, equal_var=False).pvalue
    return Comparison(sa, sb, diff, low, high, "Welch t", float(p))


def _welch_interval(diff: float, va: float, vb: float, na: int, nb: int) -> tuple[float, float]:
    """The Welch-Satterthwaite 95 % interval of a difference of means (va, vb: var / n)."""
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    low, high = sps.t.interval(CONFIDENCE, df, loc=diff, scale=math.sqrt(va + vb))
    return float(low), float(high)


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
