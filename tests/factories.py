"""Build test data through the service layer, so tests start from states users can reach."""

import itertools

from app.accounts.services import create_user
from app.boards.services import create_board, set_member
from app.cards.services import create_card
from app.extensions import db

PASSWORD = "correct-horse"
_numbers = itertools.count(1)


def user(username: str | None = None, **kwargs):
    username = username or f"user{next(_numbers)}"
    made = create_user(username, PASSWORD, display_name=kwargs.pop("display_name", None), **kwargs)
    db.session.commit()
    return made


def board(owner, template: str | None = "simple", key: str | None = None, **kwargs):
    made = create_board(
        owner, name=kwargs.pop("name", "Test board"), key=key or f"B{next(_numbers)}",
        template=template, **kwargs
    )
    db.session.commit()
    return made


def member(board_, user_, role: str = "member"):
    owner = next(m.user for m in board_.members if m.role == "owner")
    set_member(board_, owner, user_.username, role)
    db.session.commit()


def card(board_, actor, title: str = "A card", **kwargs):
    made = create_card(board_, actor, title=title, **kwargs)
    db.session.commit()
    return made


def column(board_, name: str):
    return next(c for c in board_.columns if c.name == name)
