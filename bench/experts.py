"""Expert suggestion over 1,000 people with skills: suggest_experts for a swarm needing one to
four skills, as the start form asks for it while the skills are typed (target: under 50 ms,
p95, on SQLite). Each call starts from a fresh session, as a request does."""

import random
import tempfile
from pathlib import Path

from sqlalchemy import insert
from werkzeug.security import generate_password_hash

from app.accounts.models import Team, TeamMember, User, UserSkill
from app.accounts.services import create_user
from app.boards.models import Board, BoardMember
from app.boards.services import active_columns, create_board, update_column
from app.cards.services import create_card
from app.clock import utcnow
from app.extensions import db
from app.swarms.experts import suggest_experts
from app.swarms.models import Availability, UserInterest
from bench import Figure, median_p95, migrated_app, ms, timed

PEOPLE = 1000
TEAMS = 12
SKILLS = [f"skill{n:02d}" for n in range(40)]
CARDS = 300  # cards in progress, owned by the board's team: the load that breaks ties
TARGET = 0.050


def build(rng: random.Random) -> tuple[int, list[list[str]]]:
    """1,000 people in 12 teams with 2–6 skills each (a few skills common, most rare), some
    wanting to learn others, a tenth available now; one board whose team owns 300 cards in
    progress. Returns the board's id and the skill lists to ask for."""
    owner = create_user("owner", "bench-password")
    now, password = utcnow(), generate_password_hash("bench-password")
    db.session.execute(insert(Team), [{"name": f"Team {t}", "created_at": now}
                                      for t in range(TEAMS)])
    db.session.execute(insert(User), [
        {"username": f"p{n}", "display_name": f"Person {n}", "password_hash": password,
         "created_at": now} for n in range(PEOPLE)])
    ids = {u.username: u.id for u in db.session.query(User).filter(User.username != "owner")}
    teams = [t.id for t in db.session.query(Team)]
    weights = [1 / (rank + 1) for rank in range(len(SKILLS))]  # a long tail of rare skills
    skills, interests, members, available = [], [], [], []
    for n, user_id in enumerate(ids.values()):
        members.append({"team_id": teams[n % TEAMS], "user_id": user_id})
        chosen = sorted(set(rng.choices(SKILLS, weights, k=rng.randint(2, 6))))
        skills += [{"user_id": user_id, "skill": s, "level": rng.randint(1, 5)} for s in chosen]
        if rng.random() < 0.3:
            wanted = rng.choice(SKILLS)
            if wanted not in chosen:
                interests.append({"user_id": user_id, "skill": wanted})
        if rng.random() < 0.1:
            available.append({"user_id": user_id, "since": now, "note": ""})
    db.session.execute(insert(TeamMember), members)
    db.session.execute(insert(UserSkill), skills)
    db.session.execute(insert(UserInterest), interests)
    db.session.execute(insert(Availability), available)
    board = create_board(owner, name="Experts", key="EXP", template="simple")
    board.team_id = teams[0]
    team = [ids[f"p{n}"] for n in range(0, PEOPLE, TEAMS)]
    db.session.execute(insert(BoardMember), [{"board_id": board.id, "user_id": uid,
                                              "role": "member"} for uid in team])
    doing = next(c for c in active_columns(board) if c.kind == "active")
    update_column(board, owner, doing, wip_limit=None)
    db.session.flush()
    for n in range(CARDS):
        create_card(board, owner, title=f"Work {n}", column=doing,
                    owner=str(team[rng.randrange(len(team))]))
    db.session.commit()
    asks = [rng.sample(SKILLS[:20], rng.randint(1, 4)) for _ in range(50)]
    return board.id, asks


def run() -> list[Figure]:
    rng = random.Random(50)
    with tempfile.TemporaryDirectory(prefix="swarmboard-bench-") as folder:
        app = migrated_app(f"sqlite:///{Path(folder) / 'experts.db'}")
        with app.app_context():
            board_id, asks = build(rng)
            db.session.remove()

            def suggest():
                board = db.session.get(Board, board_id)
                suggest_experts(board, rng.choice(asks))
                db.session.remove()

            samples = timed(suggest, budget=3.0, at_least=100, at_most=400)
            db.engine.dispose()
    median, p95 = median_p95(samples)
    return [Figure(
        f"Suggest experts among {PEOPLE:,} people (SQLite)", f"p95 < {TARGET * 1000:.0f} ms",
        f"p50 {ms(median)}, p95 {ms(p95)}",
        f"{len(samples)} calls, 1–4 of {len(SKILLS)} skills", p95 < TARGET,
    )]


if __name__ == "__main__":
    from bench import print_table

    print_table(run())
