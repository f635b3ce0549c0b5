"""report.html's markup: the page skeleton and its pieces as `string.Template` files.

The files are in `sweeper/reports/templates/` (`page.html`, `section.html`, ...),
shipped as package data and read through `importlib.resources`, so an installed
sweeper finds them as a checkout does. `fill` substitutes every `${name}` of one
file and puts the values in as given: text from a sweep folder must come escaped
(`report_tables.esc`), markup built elsewhere (tables, figures, scripts) goes in
whole. A placeholder left without a value raises KeyError, so none reaches a page;
a `$` inside a value (the inlined CSS and JavaScript) is never read as one.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from string import Template

FOLDER = "templates"  # next to this module, inside the sweeper.reports package


@functools.cache
def template(name: str) -> Template:
    """The template file `name` of sweeper/reports/templates/, read once."""
    return Template((files(__package__) / FOLDER / name).read_text(encoding="utf-8"))


def fill(file: str, /, **values: str) -> str:
    """The template file `file` with every placeholder replaced by its value in `values`
    (`file` is positional-only, so a template may have a `${name}`).

    Raises KeyError naming a placeholder that has no value."""
    return template(file).substitute(values)
