"""The error budgets across the top of the board: one fragment for the page, every push and the
minute's refresh (a budget drains while an outage goes on), so it reads the same everywhere."""

from flask import render_template
from markupsafe import Markup

from app.boards.models import Board
from app.slos.services import budgets_of


def budget_strip(board: Board, *, oob: bool = False) -> Markup:
    """Each objective's budget left; empty (but present, for a push to fill) without any."""
    return Markup(render_template("slos/_strip.html", board=board, budgets=budgets_of(board),
                                  oob=oob))
