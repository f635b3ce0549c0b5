"""The package's floors: every import of sweeper's own modules points down, never round.

Read with `ast` from the source (nothing imported), so a new upward arrow, a new
import cycle or a new import hidden inside a function fails here with its file
and line. The floors, lowest first (docs/architecture.md draws them):

    0 core      one run: the loop, its record, checkpoint, target kinds, metric names
    1 models    model families;  records: a sweep folder's files;
      trials    a job's side of a search (its trial, the study's storage)
    2 reports   tables, statistics, figures, report.html (of runs and searches)
    3 tasks     task plugins;  loggers: TensorBoard, MLflow
    4 run       a job built from its config: validation, observers, preflight, train
    5 sweeps    Hydra sweepers (grid, search) for any Hydra app
    6 sweeper/*.py  the commands and sweeper's own jobs (`sweeper.jobs`)
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sweeper"
FLOORS = {
    "core": 0,
    "models": 1,
    "records": 1,
    "trials": 1,
    "reports": 2,
    "tasks": 3,
    "loggers": 3,
    "run": 4,
    "sweeps": 5,
}
TOP = 6  # sweeper/*.py: __main__, cli, collect, compare, confirm, predict, jobs
MAX_IN_FUNCTION = 10


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported sweeper module, dotted
    line: int
    in_function: bool
    type_checking: bool
    commented: bool


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def folder(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and parts[1] not in FLOORS):
        return "top"
    return parts[1]


def floor(module: str) -> int:
    return FLOORS.get(folder(module), TOP)


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _names(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """The dotted names an import statement brings in (relative ones made absolute)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = package.split(".")
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join(parts + ([base] if base else []))
    return [f"{base}.{alias.name}" for alias in node.names]


def _module_imports(module: str, path: Path, known: dict[str, Path]) -> list[Import]:
    source = path.read_text()
    lines = source.splitlines()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            function = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            guarded = type_checking or (
                isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)
            )
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                # the reason may sit at the line's end or on the line above
                text = lines[child.lineno - 1] + (
                    lines[child.lineno - 2] if child.lineno > 1 else ""
                )
                for name in _names(child, package):
                    target = _resolve(name, known) if name.startswith("sweeper") else None
                    if target and target != module:
                        found.append(
                            Import(module, target, child.lineno, function, guarded, "#" in text)
                        )
            visit(child, function, guarded)

    visit(ast.parse(source), False, False)
    return found


def imports() -> list[Import]:
    """Every import of one of sweeper's modules by another, wherever it sits."""
    known = modules()
    return [i for module, path in known.items() for i in _module_imports(module, path, known)]


def test_the_floors_cover_every_folder():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders - {"conf"} <= set(FLOORS), f"give {folders - set(FLOORS)} a floor here"


def test_no_import_points_up_a_floor_or_sideways():
    wrong = [
        f"{i.source}:{i.line} imports {i.target}: floor {floor(i.source)} -> {floor(i.target)}"
        for i in imports()
        if folder(i.source) != folder(i.target) and floor(i.target) >= floor(i.source)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle():
    graph: dict[str, set[str]] = defaultdict(set)
    for i in imports():
        if not i.type_checking:
            graph[i.source].add(i.target)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                walk(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(modules()):
        if node not in state:
            walk(node)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_few_imports_inside_functions_each_with_its_reason():
    inside = [i for i in imports() if i.in_function]
    listed = "\n".join(f"{i.source}:{i.line} {i.target}" for i in inside)
    assert len(inside) < MAX_IN_FUNCTION, f"{len(inside)} in-function imports:\n{listed}"
    silent = [f"{i.source}:{i.line}" for i in inside if not i.commented]
    assert not silent, f"say why each is inside its function: {silent}"


@pytest.mark.parametrize(
    ("source", "target", "ok"),
    [
        ("sweeper.core.train", "sweeper.tasks.base", False),
        ("sweeper.tasks.base", "sweeper.core.task", True),
        ("sweeper.reports.report", "sweeper.sweeps.pareto", False),
        ("sweeper.loggers.base", "sweeper.tasks", False),  # same floor, other folder
        ("sweeper.collect", "sweeper.sweeps.search", True),
        ("sweeper.sweeps.grid", "sweeper.collect", False),
    ],
)
def test_the_rule_itself(source, target, ok):
    allowed = folder(source) == folder(target) or floor(target) < floor(source)
    assert allowed is ok
