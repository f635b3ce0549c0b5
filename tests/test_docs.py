"""README.md and docs/*.md hold together: every relative link and image points at a file
that exists (and at a heading that exists, for `#anchor` links), every figure under
docs/figures is shown somewhere, and the README's Quickstart test line is the one CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^\s*(```|~~~)")
# [text](target) and ![alt](target); the text may hold one level of brackets.
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")
IMG_TAG = re.compile(r"<img\s[^>]*src=\"([^\"]+)\"")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks, with inline code spans blanked out."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(CODE_SPAN.sub("``", line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lower case, punctuation dropped,
    spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = text.replace("`", "").replace("*", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    for line in prose_lines(page.read_text()):
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            base = slug(m[1])
            n = seen.get(base, 0)
            seen[base] = n + 1
    out = set()
    for base, n in seen.items():
        out.add(base)
        out.update(f"{base}-{i}" for i in range(1, n))
    return out


def targets(page: Path) -> list[str]:
    found = []
    for line in prose_lines(page.read_text()):
        found += LINK.findall(line) + IMG_TAG.findall(line)
    return found


def test_the_pages_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    assert {"README.md", "docs/results.md", "docs/benchmarks.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_and_image_resolves(page):
    broken = []
    for target in targets(page):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    assert not broken, f"{page.name}:\n" + "\n".join(broken)


def test_every_figure_is_shown():
    shown = {(page.parent / t.partition("#")[0]).resolve() for page in PAGES for t in targets(page)}
    figures = sorted((ROOT / "docs" / "figures").glob("*.png"))
    assert figures
    assert [f.name for f in figures if f.resolve() not in shown] == []


def quickstart_code_lines() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = re.search(r"^## Quickstart\n(.*?)(?=^## )", text, re.M | re.S)
    assert section, "README.md has no ## Quickstart section"
    lines, fenced = [], False
    for line in section[1].splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif fenced:
            lines.append(line.strip())
    return lines


def test_the_quickstart_test_line_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    runs = [line.strip() for line in ci if "pytest" in line and not line.lstrip().startswith("#")]
    assert len(runs) == 1, runs
    assert runs[0] in quickstart_code_lines()


def test_the_quickstart_gives_the_grid_and_a_search():
    lines = " ".join(quickstart_code_lines())
    assert "python -m sweeper task=adder model.hidden=3,5,10 loss=mse,ce -m" in lines
    assert "hparams_search=lr" in lines and "python -m sweeper.collect" in lines
