"""The andon banner: one fragment for the board page, every push and the wall, so a pulled
cord shows the same wherever the board is open."""

from datetime import UTC
from zoneinfo import ZoneInfo

from flask import render_template
from markupsafe import Markup

from app.boards.models import Board
from app.swarms.andon import andon_cards


def andon_banner(board: Board, *, oob: bool = False) -> Markup:
    """Every card of `board` with the cord pulled, each with its reason and since when (board
    time). Always rendered, empty when none, so a push has a place to put it."""
    zone = ZoneInfo(board.timezone or "UTC")
    pulled = [
        (card, card.andon_at.replace(tzinfo=UTC).astimezone(zone).strftime("%H:%M"))
        for card in andon_cards(board)
    ]
    return Markup(render_template("boards/_andon_banner.html", board=board, pulled=pulled,
                                  oob=oob))
