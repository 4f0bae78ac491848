"""User text made safe: Markdown rendered by markdown-it-py, then sanitised by nh3; cells of a
CSV file that a spreadsheet would take for a formula."""

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str | None) -> Markup:
    html = _markdown.render(text or "")
    return Markup(nh3.clean(html, link_rel="noopener noreferrer nofollow"))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as text: text starting like a formula (= + - @, tab,
    carriage return) gets a leading apostrophe (OWASP's CSV injection advice); numbers and
    anything else stay as they are. `from_spreadsheet_safe` takes the apostrophe off again."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def from_spreadsheet_safe(text: str) -> str:
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
