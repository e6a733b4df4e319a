"""The page as HTML: templates/report.html.j2 rendered with Jinja2 (autoescaped), one file with everything in it."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

import nanokws
from nanokws.report.page import Page

TEMPLATES_DIR = Path(__file__).resolve().parents[3] / "templates"
TEMPLATE = "report.html.j2"


def code_spans(text: str) -> Markup:
    """Escape `text` and set what it quotes between backticks (commands, file names) in code type."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["code"] = code_spans
    return env


def render_page(page: Page) -> str:
    return _environment().get_template(TEMPLATE).render(page=page, version=nanokws.__version__)
