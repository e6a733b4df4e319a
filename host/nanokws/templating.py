"""The Jinja2 set-up shared by everything rendered from `templates/`: the generated C (codegen.render) and
the run report (report.render). Undefined names fail the render instead of printing as empty."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


def environment(*, autoescape: bool, filters: Mapping[str, Callable[..., Any]]) -> jinja2.Environment:
    """An environment over `templates/` with `filters`; `autoescape` for HTML, not for C."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=not autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=autoescape,
    )
    env.filters.update(filters)
    return env
