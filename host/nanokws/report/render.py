"""The page as HTML: templates/report.html.j2 rendered with Jinja2 (autoescaped), one file with everything in it."""

from __future__ import annotations

import functools
import re

import jinja2
from markupsafe import Markup, escape

import nanokws
from nanokws.report.page import Page
from nanokws.templating import environment

TEMPLATE = "report.html.j2"


def code_spans(text: str) -> Markup:
    """Escape `text` and set what it quotes between backticks (commands, file names) in code type."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


@functools.cache
def _environment() -> jinja2.Environment:
    return environment(autoescape=True, filters={"code": code_spans})


def render_page(page: Page) -> str:
    return _environment().get_template(TEMPLATE).render(page=page, version=nanokws.__version__)
