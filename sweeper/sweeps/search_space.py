"""A search's space, read with Hydra's own override grammar, so it means what a grid means.

`build_space` turns `hydra.sweeper.params` and the command line's overrides into
Optuna distributions plus the fixed overrides every trial runs with, as
hydra-optuna-sweeper reads them except where noted:

- `choice(...)`, `a,b,c`, `shuffle(...)` and `glob(...)` become a categorical
  distribution over exactly the values Hydra's basic sweeper runs for them
  (`glob(*)` over a config group its options);
- `range(a, b, step)` becomes a stepped int or float distribution over the values
  Hydra's own `range` makes, which stop *before* `b` as Python's do (`range(2,6)`
  is 2..5, `IntDistribution(2, 5)`). hydra-optuna-sweeper includes `b`
  (`IntDistribution(2, 6)`); sweeper keeps Hydra's meaning so that a search and a
  grid over the same text run the same values;
- `interval(a, b)` is a uniform float distribution, `int(interval(a, b))` a uniform
  int one, and `tag(log, ...)` makes either log-uniform;
- the values of a config group (`model`, `loss`) are option names, checked
  against the group and quoted where Hydra would read them as numbers
  (a numbered group's `size='3'`), so a sampled value always names the option's file;
- a key fixed on the command line that `hydra.sweeper.params` searches is fixed:
  the command line wins and the key leaves the space (logged);
- hydra-optuna-sweeper's deprecated `hydra.sweeper.search_space` (`key: {type:
  float, low: 0, high: 1, log: false, step: null}`) is read too, with its warning
  (`params` wins when both are given).

Anything a search cannot do (an empty value list, an option the group does not
have, an empty or inverted interval) raises SearchError with one line naming the
key. An empty space is allowed: every trial runs the fixed config, as in
hydra-optuna-sweeper. `check_compatible` refuses to resume a study whose stored
trials were drawn from another space. `describe` writes a distribution the way the
command line spells it.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import (
    Glob,
    IntervalSweep,
    Override,
    QuotedString,
    RangeSweep,
    Transformer,
)
from hydra.errors import HydraException
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from sweeper.trials.plugins import SearchError

log = logging.getLogger(__name__)


# A group option name Hydra reads back as the same string when left unquoted.
_PLAIN_NAME = re.compile(r"[A-Za-z_][\w\-./]*")
_NOT_PLAIN = {"true", "false", "null", "nan", "inf"}


def _option_text(name: str) -> str:
    """How a group option is written in an override: `lstm`, but `'3'` (not the int 3)."""
    if _PLAIN_NAME.fullmatch(name) and name.lower() not in _NOT_PLAIN:
        return name
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass
class SearchSpace:
    """What a search draws (`distributions`) and what every trial also runs with (`fixed`).

    `fixed` maps an override's key (`task`, `+foo`) to its value text; `texts` maps
    a categorical key's choice values to the text Hydra needs for them.
    """

    distributions: dict[str, BaseDistribution] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    texts: dict[str, dict[Any, str]] = field(default_factory=dict)
    fixed_by_command_line: dict[str, str] = field(default_factory=dict)

    def overrides(self, params: dict[str, Any]) -> list[str]:
        """One trial's overrides: its sampled `params` as Hydra text, then the fixed ones."""
        lines = []
        for name, value in params.items():
            text = self.texts.get(name, {}).get(value)
            if text is None:
                text = Transformer.str(value)
            lines.append(f"{name}={text}")
        lines += [f"{key}={value}" for key, value in self.fixed.items()]
        return lines


def _parse(line: str) -> Override:
    try:
        return OverridesParser.create().parse_override(line)
    except HydraException as error:
        key = line.split("=", 1)[0]
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SearchError(f"search space for {key}: cannot parse {line!r}: {first}") from None


def _interval(key: str, line: str, sweep: IntervalSweep) -> BaseDistribution:
    low, high = sweep.start, sweep.end
    if low is None or high is None or not low < high:
        raise SearchError(
            f"search interval for {key} is empty or inverted: low={low}, high={high} "
            "(need low < high)"
        )
    log_scale = "log" in sweep.tags
    if log_scale and low <= 0:
        raise SearchError(f"search space for {key}: {line!r}: a log interval needs low > 0")
    # Hydra's interval() is a float interval; int(interval(a, b)) an int one.
    if isinstance(low, int) and isinstance(high, int):
        return IntDistribution(low, high, log=log_scale)
    return FloatDistribution(float(low), float(high), log=log_scale)


def _range(key: str, line: str, override: Override) -> BaseDistribution | None:
    """A stepped int or float distribution over the values of Hydra's `range(...)` (which
    stop before its end), or None for a range read as choices (shuffled, or not numbers)."""
    sweep = override.value()
    if not isinstance(sweep, RangeSweep) or sweep.shuffle:
        return None
    values = list(override.sweep_iterator())
    if not values:
        raise SearchError(f"search space for {key}: {line!r} gives no values")
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) != len(values):
        return None
    low, high, step = min(numbers), max(numbers), abs(sweep.step or 1)
    if all(isinstance(v, int) for v in (*numbers, step)):
        return IntDistribution(low, high, step=step)
    if low == high:  # one float value: Optuna's stepped float needs a span
        return CategoricalDistribution([float(low)])
    return FloatDistribution(float(low), float(high), step=float(step))


def _choices(
    key: str, line: str, override: Override, options: list[str] | None
) -> tuple[list[Any], dict[Any, str]]:
    """The values of a discrete sweep, as Hydra's basic sweeper enumerates them."""
    glob = override.value()
    if isinstance(glob, Glob):
        if not options:
            raise SearchError(
                f"search space for {key}: {line!r}: glob() picks options of a config group, "
                f"and {key} is not one"
            )
        raw: list[Any] = glob.filter(options)
    else:
        raw = list(override.sweep_iterator())
    values: list[Any] = []
    texts: dict[Any, str] = {}
    for item in raw:
        text = Transformer.str(item)  # as the grid writes it, quotes kept
        if isinstance(item, QuotedString):  # `a='x','y'`: the value is the text
            item = item.text
        if options:  # a config group: the values are option names
            name = item if isinstance(item, str) else Transformer.str(item)
            if name not in options:
                raise SearchError(
                    f"search space for {key}: {name} is not an option of group {key} "
                    f"(options: {', '.join(options)})"
                )
            value, text = name, _option_text(name)
        else:
            value = Transformer.encode(item)
        if value not in texts:
            values.append(value)
            texts[value] = text
    if not values:
        raise SearchError(f"search space for {key}: {line!r} gives no values")
    return values, texts


def build_space(
    params: list[str],
    arguments: list[str],
    group_options: Callable[[str], list[str]] = lambda key: [],
) -> SearchSpace:
    """The space of `hydra.sweeper.params` (as `key=value` lines) and the command line.

    `group_options(key)` lists a config group's options ([] if `key` is no group).
    Command-line overrides come after `params` and win over them. Raises SearchError.
    """
    space = SearchSpace()
    for origin, lines in (("params", params), ("command line", arguments)):
        for line in lines:
            override = _parse(line)
            key = override.get_key_element()
            name = override.key_or_group
            if not override.is_sweep_override():
                space.fixed[key] = override.get_value_element_as_str()
                if name in space.distributions:
                    del space.distributions[name]
                    space.texts.pop(name, None)
                    if origin == "command line":
                        space.fixed_by_command_line[name] = line
                        log.info(
                            "%s is fixed by the command line (%s): not searched in this run",
                            name,
                            line,
                        )
                continue
            if override.is_delete():
                raise SearchError(
                    f"search space for {key}: {line!r}: a searched key cannot be "
                    "deleted; sweep an existing key"
                )
            if override.is_add() or override.is_force_add():
                name = key  # `+w`: the trial's override adds the key (hydra-optuna-sweeper's way)
            space.fixed.pop(key, None)
            space.fixed_by_command_line.pop(name, None)
            value = override.value()
            if override.is_interval_sweep():
                assert isinstance(value, IntervalSweep)
                space.distributions[name] = _interval(name, line, value)
                space.texts.pop(name, None)
            elif override.is_discrete_sweep():
                options = group_options(name) if "." not in name else []
                stepped = None if options else _range(name, line, override)
                if stepped is not None:
                    space.distributions[name] = stepped
                    space.texts.pop(name, None)
                    continue
                values, texts = _choices(name, line, override, options)
                space.distributions[name] = CategoricalDistribution(values)
                space.texts[name] = texts
            else:  # pragma: no cover - the grammar has no other sweep
                raise SearchError(f"search space for {key}: {line!r} is not supported")
    return space


def refuse_empty(space: SearchSpace) -> None:
    """Raise SearchError for a space with nothing to search, naming the command-line
    overrides that fixed its keys (for apps where a search of one config is a mistake)."""
    if space.distributions:
        return
    if space.fixed_by_command_line:
        fixed = ", ".join(space.fixed_by_command_line.values())
        keys = ", ".join(space.fixed_by_command_line)
        raise SearchError(
            f"the search space is empty: {keys} is fixed by the command line ({fixed}); "
            "drop that override to search it, or run without hparams_search"
        )
    raise SearchError(
        "the search space is empty: set hydra.sweeper.params or pass e.g. "
        "'optim.lr=tag(log, interval(0.0001, 0.1))'"
    )


def _number(x: float) -> str:
    return repr(x) if isinstance(x, float) and math.isfinite(x) else str(x)


def describe(distribution: BaseDistribution | None) -> str:
    """`log interval(0.0001, 0.1)`, `choice(3, 5)`, ...: a distribution as the CLI writes it."""
    d = distribution
    if d is None:
        return "(not searched)"
    if isinstance(d, CategoricalDistribution):
        return "choice(" + ", ".join(Transformer.str(c) for c in d.choices) + ")"
    if isinstance(d, IntDistribution):
        if d.log:
            return f"log int(interval({d.low}, {d.high}))"
        if d.step != 1:
            return f"{d.low}..{d.high} step {d.step}"
        return f"{d.low}..{d.high}"
    if isinstance(d, FloatDistribution):
        if d.step is not None:
            return f"{_number(d.low)}..{_number(d.high)} step {_number(d.step)}"
        prefix = "log " if d.log else ""
        return f"{prefix}interval({_number(d.low)}, {_number(d.high)})"
    return repr(d)


def distribution_from_config(name: str, config: Any) -> BaseDistribution:
    """hydra-optuna-sweeper's deprecated `search_space` entry as a distribution:
    `{type: categorical, choices: [...]}`, `{type: int|float, low, high, step, log}`.
    Raises SearchError naming `hydra.sweeper.search_space.<name>`."""
    where = f"hydra.sweeper.search_space.{name}"
    if not isinstance(config, dict):
        raise SearchError(f"{where} must be a mapping with a type, got {config!r}")
    kind = config.get("type")
    allowed = {"type", "choices", "low", "high", "step", "log"}
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise SearchError(f"{where}: unknown key {unknown[0]} (keys: {', '.join(sorted(allowed))})")
    try:
        if kind == "categorical":
            choices = config.get("choices")
            if not choices:
                raise SearchError(f"{where}: a categorical needs a non-empty choices list")
            return CategoricalDistribution(list(choices))
        if kind in ("int", "float"):
            low, high = config.get("low"), config.get("high")
            if low is None or high is None:
                raise SearchError(f"{where}: type {kind} needs low and high")
            log_scale, step = bool(config.get("log") or False), config.get("step")
            if kind == "int":
                return IntDistribution(int(low), int(high), log=log_scale, step=int(step or 1))
            return FloatDistribution(
                float(low), float(high), log=log_scale, step=None if step is None else float(step)
            )
    except (TypeError, ValueError) as error:
        raise SearchError(f"{where}: {error}") from None
    raise SearchError(f"{where}: type must be categorical, int or float, got {kind!r}")


def grid_choices(distributions: dict[str, BaseDistribution]) -> dict[str, list[Any]]:
    """Every value of each distribution, for Optuna's GridSampler (`sampler=grid`): a
    categorical's choices, a stepped int or float range's values. Raises SearchError for
    an interval, which has no grid."""
    grid: dict[str, list[Any]] = {}
    for name, d in distributions.items():
        if isinstance(d, CategoricalDistribution):
            grid[name] = list(d.choices)
        elif isinstance(d, IntDistribution) and not d.log:
            grid[name] = list(range(d.low, d.high + 1, d.step))
        elif isinstance(d, FloatDistribution) and d.step is not None:
            count = int(round((d.high - d.low) / d.step)) + 1
            grid[name] = [d.low + i * d.step for i in range(count)]
        else:
            raise SearchError(
                f"search space for {name}: the grid sampler needs choice() or range() "
                f"values, not {describe(d)} (e.g. '{name}=choice(0.001,0.01,0.1)')"
            )
    return grid


def stored_space(study: Any) -> dict[str, list[BaseDistribution]]:
    """The distributions the study's trials were drawn from, per parameter (any state)."""
    stored: dict[str, list[BaseDistribution]] = {}
    for trial in study.get_trials(deepcopy=False):
        for name, distribution in trial.distributions.items():
            seen = stored.setdefault(name, [])
            if distribution not in seen:
                seen.append(distribution)
    return stored


def check_compatible(study: Any, distributions: dict[str, BaseDistribution], where: str) -> None:
    """Refuse to add trials from `distributions` to a study drawn from another space.

    A changed interval, log vs linear, other choices (or the same in another order:
    Optuna stores a choice as its index), a new parameter or a dropped one all
    count: the sampler would read the stored trials in the wrong space. A study
    without trials takes any space. Raises SearchError showing both spaces.
    """
    stored = stored_space(study)
    if not stored:
        return
    same = set(stored) == set(distributions) and all(
        all(d == distributions[name] for d in old) for name, old in stored.items()
    )
    if same:
        return
    before = ", ".join(
        f"{name}: {' or '.join(describe(d) for d in old)}" for name, old in stored.items()
    )
    asked = ", ".join(f"{name}: {describe(d)}" for name, d in distributions.items())
    raise SearchError(
        f"study {study.study_name} in {where} was searched over {before}; this run asks "
        f"for {asked or 'nothing'}. Start a new study with hydra.sweeper.study_name=NEW "
        "(or another hydra.sweep.dir)"
    )
