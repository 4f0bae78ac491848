"""User text made safe: Markdown rendered by markdown-it-py, then sanitised by nh3."""

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_markdown(text: str | None) -> Markup:
    html = _markdown.render(text or "")
    return Markup(nh3.clean(html, link_rel="noopener noreferrer nofollow"))
