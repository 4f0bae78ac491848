"""Knowledge reuse: full-text search over resolved swarms (help needed, what was tried, outcome,
what was learned, skills, the card's title). SQLite uses an FTS5 index (made by migration 0002
and kept here); PostgreSQL matches to_tsvector against websearch_to_tsquery on the fly."""

import re
from dataclasses import dataclass

from sqlalchemy import func, select, text

from app.accounts.models import User
from app.boards.access import boards_for
from app.cards.models import Card
from app.extensions import db
from app.swarms.models import Swarm

SEARCH_TABLE = "swarm_search"  # see app.extensions.in_models
WORD = re.compile(r"\w+", re.UNICODE)
LIMIT = 20


@dataclass
class Found:
    swarm: Swarm
    snippet: str


def _document(swarm: Swarm) -> str:
    return "\n".join(
        part
        for part in (
            swarm.card.title, swarm.help_needed, swarm.tried, swarm.outcome, swarm.learned,
            " ".join(swarm.skills or ()),
        )
        if part
    )


def _sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def index_swarm(swarm: Swarm) -> None:
    """(Re)index a resolved swarm; PostgreSQL needs nothing stored."""
    if not _sqlite():
        return
    db.session.execute(text(f"DELETE FROM {SEARCH_TABLE} WHERE swarm_id = :id"), {"id": swarm.id})
    db.session.execute(
        text(f"INSERT INTO {SEARCH_TABLE} (body, swarm_id) VALUES (:body, :id)"),
        {"body": _document(swarm), "id": swarm.id},
    )


def search_swarms(
    user: User, words: str = "", skills=(), *, exclude: int | None = None, limit: int = LIMIT
) -> list[Found]:
    """Resolved swarms on the boards `user` can see, best match first. Words are matched
    full-text (stemmed: "restarting" finds "restart"); skills must all be among the swarm's."""
    board_ids = [board.id for board, _role in boards_for(user)]
    terms = WORD.findall(words or "")
    skills = [s.lower() for s in skills or () if s]
    query = (
        select(Swarm)
        .join(Card, Card.id == Swarm.card_id)
        .where(Swarm.status == "resolved", Swarm.board_id.in_(board_ids))
    )
    if exclude is not None:
        query = query.where(Swarm.id != exclude)
    if terms:
        if _sqlite():
            # Each word quoted (no FTS syntax from users), any of them may match; rank orders.
            match = " OR ".join(f'"{t}"' for t in terms)
            ranked = text(
                f"SELECT swarm_id, bm25({SEARCH_TABLE}) AS score FROM {SEARCH_TABLE} "
                f"WHERE {SEARCH_TABLE} MATCH :match"
            ).columns(swarm_id=db.Integer, score=db.Float).subquery()
            query = query.join(ranked, ranked.c.swarm_id == Swarm.id).order_by(ranked.c.score)
            query = query.params(match=match)
        else:
            document = func.to_tsvector(
                "english",
                func.concat_ws(" ", Card.title, Swarm.help_needed, Swarm.tried, Swarm.outcome,
                               Swarm.learned),
            )
            question = func.to_tsquery("english", " | ".join(terms))
            query = query.where(document.op("@@")(question)).order_by(
                func.ts_rank(document, question).desc()
            )
    query = query.order_by(Swarm.ended_at.desc()).limit(limit * 3 if skills else limit)
    found = []
    for swarm in db.session.scalars(query):
        if skills and not set(skills) <= {s.lower() for s in swarm.skills or ()}:
            continue
        found.append(Found(swarm, _snippet(swarm, terms)))
        if len(found) == limit:
            break
    return found


def similar_swarms(swarm: Swarm, user: User, limit: int = 3) -> list[Found]:
    """Past outcomes like this new swarm: its words and skills, best first."""
    return similar_to(user, swarm.card.title, swarm.help_needed, swarm.skills,
                      exclude=swarm.id, limit=limit)


def similar_to(user: User, title: str, help_needed: str = "", skills=(), *,
               exclude: int | None = None, limit: int = 3) -> list[Found]:
    """Past outcomes like a swarm about to be asked for (a card's title, the help needed and
    the skills), best first: what the start form shows while it is filled in."""
    words = " ".join([title or "", help_needed or "", " ".join(skills or ())])
    return search_swarms(user, _salient(words), exclude=exclude, limit=limit)


STOP = set("the a an and or of to in on for with is are was were be it this that from at by "
           "not no can cannot could we our you your i".split())


def _salient(words: str) -> str:
    seen = []
    for word in WORD.findall(words.lower()):
        if len(word) > 2 and word not in STOP and word not in seen:
            seen.append(word)
    return " ".join(seen[:12])


def _snippet(swarm: Swarm, terms: list[str], width: int = 160) -> str:
    body = swarm.outcome or swarm.help_needed
    if swarm.learned:
        body = f"{body} — {swarm.learned}"
    lowered = body.lower()
    hits = [lowered.find(t.lower()) for t in terms if lowered.find(t.lower()) >= 0]
    start = max(0, min(hits) - 40) if hits else 0
    snippet = body[start:start + width]
    return ("…" if start else "") + snippet + ("…" if start + width < len(body) else "")
