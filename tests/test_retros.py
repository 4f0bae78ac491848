"""Retrospectives: a cadence says when the next is due; a session moves through write, group,
vote and act in the facilitator's hands; notes stay private to their author while people
write; votes are limited and can be taken back; actions become improvement cards in the
register and the stand-up walk; the period's flow figures are the metrics page's own."""

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.services import create_token
from app.cards.models import Card
from app.cards.moves import move_card
from app.clock import utcnow
from app.events.models import Event
from app.extensions import db, socketio
from app.retros import cadence, services
from app.retros.models import RetroGroup, RetroNote, RetroVote
from app.reviews.improvements import origin_of, register, register_rows
from app.standups.walk import walk_order
from tests import factories as make

MONDAY = datetime(2026, 11, 30, 8, 0)  # UTC; 09:00 in Berlin


@pytest.fixture
def team(simple):
    """SIM with ann (owner), bob (member), vic (viewer); ann runs a retrospective."""
    board, ann, bob = simple
    vic = make.user("vic")
    make.member(board, vic, "viewer")
    retro = services.start_retro(board, ann)
    db.session.commit()
    return board, ann, bob, vic, retro


def to_phase(retro, actor, phase: str) -> None:
    while retro.phase != phase:
        services.advance(retro, actor, to=services.PHASES[services.PHASES.index(retro.phase) + 1])
    db.session.commit()


def note(retro, actor, body: str, kind: str = "well") -> RetroNote:
    made = services.add_note(retro, actor, kind=kind, body=body)
    db.session.commit()
    return made


def counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (RetroNote, RetroGroup, RetroVote, Event, Card))


def api(client, user) -> dict:
    token = create_token(user, "reports")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


# --- cadence and period -------------------------------------------------------------------


def test_the_cadence_says_when_the_next_retrospective_is_due_and_when_it_is_overdue(simple,
                                                                                    client,
                                                                                    login):
    board, ann, bob = simple
    board.timezone = "Europe/Berlin"
    db.session.commit()
    cadence.set_cadence(board, ann, every_weeks=2, weekday=3, starts_at="10:00", at=MONDAY)
    db.session.commit()
    due = cadence.next_due(board, now=MONDAY)
    assert due.at == datetime(2026, 12, 3, 9, 0) and not due.overdue  # Thursday 10:00 Berlin
    assert cadence.next_due(board, now=datetime(2026, 12, 3, 9, 1)).overdue
    held = services.start_retro(board, ann, at=datetime(2026, 12, 3, 9, 30))
    db.session.commit()
    assert cadence.next_due(board, now=datetime(2026, 12, 3, 10)).at == datetime(2026, 12, 17, 9)
    # A day late does not push the next one a week further.
    to_phase(held, ann, "closed")
    services.start_retro(board, ann, at=datetime(2026, 12, 18, 9))
    db.session.commit()
    assert cadence.next_due(board, now=datetime(2026, 12, 18, 10)).at == datetime(2026, 12, 31, 9)

    login("bob")
    refused = client.post("/boards/SIM/retrospectives/cadence",
                          data={"every_weeks": "1", "weekday": "0", "starts_at": "09:00"})
    assert refused.status_code == 403  # a board setting: owners only
    client.post("/logout")
    login("ann")
    for bad in ({"every_weeks": "9", "weekday": "0", "starts_at": "09:00"},
                {"every_weeks": "1", "weekday": "7", "starts_at": "09:00"},
                {"every_weeks": "1", "weekday": "0", "starts_at": "teatime"}):
        assert client.post("/boards/SIM/retrospectives/cadence", data=bad).status_code == 422
    assert cadence.cadence_of(board).every_weeks == 2


def test_the_list_shows_when_the_next_one_is_overdue(simple, client, login):
    board, ann, bob = simple
    cadence.set_cadence(board, ann, every_weeks=1, weekday=0, starts_at="09:00",
                        at=utcnow() - timedelta(days=10))
    db.session.commit()
    login("ann")
    page = client.get("/boards/SIM/retrospectives").get_data(as_text=True)
    assert "overdue" in page and "Every 1 week on Monday at 09:00" in page
    assert "Retros" in client.get("/boards/SIM").get_data(as_text=True)


def test_the_period_runs_from_the_previous_retrospective_or_one_cadence_back(simple):
    board, ann, bob = simple
    cadence.set_cadence(board, ann, every_weeks=3, weekday=2, starts_at="14:00", at=MONDAY)
    first = services.start_retro(board, ann, at=MONDAY)
    assert (first.period_from, first.period_to) == (date(2026, 11, 10), date(2026, 11, 30))
    to_phase(first, ann, "closed")
    second = services.start_retro(board, bob, at=MONDAY + timedelta(days=21))
    assert (second.period_from, second.period_to) == (date(2026, 12, 1), date(2026, 12, 21))
    with pytest.raises(Exception, match="already running"):
        services.start_retro(board, ann, at=MONDAY + timedelta(days=22))
    db.session.rollback()


def test_starting_with_an_edited_period_and_refusals(simple, client, login):
    board, ann, bob = simple
    login("bob")
    answer = client.post("/boards/SIM/retrospectives",
                         data={"period_from": "2026-11-02", "period_to": "2026-11-15",
                               "votes_each": "5"})
    assert answer.status_code == 302
    retro = services.running(board)
    assert (retro.period_from, retro.period_to, retro.votes_each, retro.facilitator.username) == (
        date(2026, 11, 2), date(2026, 11, 15), 5, "bob")
    to_phase(retro, bob, "closed")
    before = counts()
    backwards = client.post("/boards/SIM/retrospectives",
                            data={"period_from": "2026-11-15", "period_to": "2026-11-02"})
    assert backwards.status_code == 422 and "must end on or after" in backwards.get_data(
        as_text=True)
    assert counts() == before


# --- the session --------------------------------------------------------------------------


def test_while_writing_nobody_reads_anyone_elses_notes(team, client, login):
    board, ann, bob, vic, retro = team
    note(retro, ann, "Pairing on the relay went great")
    note(retro, bob, "Deploys on Friday hurt", kind="improve")
    login("bob")
    page = client.get(f"/retrospectives/{retro.id}").get_data(as_text=True)
    assert "Deploys on Friday hurt" in page
    assert "Pairing on the relay" not in page and "1 note by others" in page
    part = client.get(f"/retrospectives/{retro.id}/session").get_data(as_text=True)
    assert "Pairing on the relay" not in part
    seen = client.get(f"/api/v1/retrospectives/{retro.id}", headers=api(client, bob)).get_json()
    bodies = {n["id"]: n["body"] for n in seen["notes"]}
    assert sorted(bodies.values(), key=str) == ["Deploys on Friday hurt", None]
    assert "Pairing" not in str(seen)
    # Nor does the event log (which reaches every view of the board, and the webhooks).
    logged = db.session.scalars(select(Event.data).where(Event.type == "retro.note_added")).all()
    assert logged and not any("Pairing" in str(data) for data in logged)

    to_phase(retro, ann, "group")
    page = client.get(f"/retrospectives/{retro.id}").get_data(as_text=True)
    assert "Pairing on the relay went great" in page
    seen = client.get(f"/api/v1/retrospectives/{retro.id}", headers=api(client, bob)).get_json()
    assert None not in [n["body"] for n in seen["notes"]]


def test_notes_need_text_the_write_phase_and_a_member(team, client, login):
    board, ann, bob, vic, retro = team
    login("bob")
    path = f"/retrospectives/{retro.id}/notes"
    before = counts()
    empty = client.post(path, data={"kind": "well", "body": "   "})
    assert empty.status_code == 422 and "cannot be empty" in empty.get_data(as_text=True)
    long = client.post(path, data={"kind": "well", "body": "x" * 501})
    assert long.status_code == 422 and "too long" in long.get_data(as_text=True)
    assert client.post(path, data={"kind": "moaning", "body": "x"}).status_code == 422
    assert counts() == before
    assert client.post(path, data={"kind": "ideas", "body": "Try mob triage"}).status_code == 302
    client.post("/logout")
    login("vic")
    assert client.post(path, data={"kind": "well", "body": "Viewer"}).status_code == 403
    assert "Try mob triage" not in client.get(f"/retrospectives/{retro.id}").get_data(
        as_text=True)  # viewers watch the count only
    to_phase(retro, ann, "group")
    client.post("/logout")
    login("bob")
    late = client.post(path, data={"kind": "well", "body": "Late"})
    assert late.status_code == 422 and "write phase" in late.get_data(as_text=True)


def test_notes_are_grouped_named_and_taken_out_again(team, client, login):
    board, ann, bob, vic, retro = team
    relay = note(retro, ann, "Relay pairing")
    relay2 = note(retro, bob, "The relay fix went well")
    relay3 = note(retro, bob, "Relay runbook", kind="ideas")
    to_phase(retro, ann, "group")
    login("bob")
    path = f"/retrospectives/{retro.id}"
    answer = client.post(f"{path}/group", data={"note": relay2.id, "with": relay.id},
                         headers={"HX-Request": "true"})
    assert answer.status_code == 200 and 'id="retro"' in answer.get_data(as_text=True)
    client.post(f"{path}/group", data={"note": relay3.id, "with": relay2.id})
    (group,) = retro.groups
    assert {n.id for n in group.notes} == {relay.id, relay2.id, relay3.id}
    client.post(f"{path}/groups/{group.id}", data={"name": "The mail relay"})
    assert "The mail relay" in client.get(path).get_data(as_text=True)
    client.post(f"{path}/ungroup", data={"note": relay3.id})
    db.session.expire_all()
    assert len(retro.groups[0].notes) == 2
    client.post(f"{path}/ungroup", data={"note": relay.id})  # a group of one is no group
    db.session.expire_all()
    assert retro.groups == [] and all(n.group_id is None for n in retro.notes)

    # A note of another retrospective cannot be grouped in here.
    other_board = make.board(ann, "simple", key="OTH")
    other = services.start_retro(other_board, ann)
    stranger = note(other, ann, "Elsewhere")
    before = counts()
    across = client.post(f"{path}/group", data={"note": relay.id, "with": stranger.id})
    assert across.status_code == 404 and "not in this retrospective" in across.get_data(
        as_text=True)
    assert client.post(f"{path}/group", data={"note": relay.id, "with": relay.id}
                       ).status_code == 422
    assert counts() == before


def test_votes_are_limited_can_be_taken_back_and_show_once_voting_ends(team, client, login):
    board, ann, bob, vic, retro = team
    a = note(retro, ann, "Relay pairing")
    b = note(retro, bob, "Relay fix")
    c = note(retro, bob, "Friday deploys", kind="improve")
    d = note(retro, ann, "Flaky tests", kind="improve")
    to_phase(retro, ann, "group")
    services.group_notes(retro, ann, note_id=b.id, with_note_id=a.id)
    db.session.commit()
    login("bob")
    path = f"/retrospectives/{retro.id}"
    outside = client.post(f"{path}/votes", data={"note": c.id})
    assert outside.status_code == 422 and "vote phase" in outside.get_data(as_text=True)
    to_phase(retro, ann, "vote")
    group = retro.groups[0]
    for data in ({"group": group.id}, {"note": a.id}, {"note": c.id}):  # a: counts for its group
        assert client.post(f"{path}/votes", data=data).status_code == 302
    before = counts()
    beyond = client.post(f"{path}/votes", data={"note": d.id})
    assert beyond.status_code == 422 and "used all 3 of your votes" in beyond.get_data(
        as_text=True)
    assert counts() == before
    nothing = client.post(f"{path}/votes/remove", data={"note": d.id})
    assert nothing.status_code == 422 and "no vote there" in nothing.get_data(as_text=True)
    assert client.post(f"{path}/votes/remove", data={"note": c.id}).status_code == 302
    assert client.post(f"{path}/votes", data={"note": d.id}).status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "0</strong> of 3 votes left" in page
    seen = client.get(f"/api/v1/retrospectives/{retro.id}", headers=api(client, bob)).get_json()
    assert {i["votes"] for i in seen["items"]} == {None}  # hidden while voting
    assert sorted(i["mine"] for i in seen["items"]) == [0, 1, 2]
    services.vote(retro, ann, note_id=d.id)
    to_phase(retro, ann, "act")
    seen = client.get(f"/api/v1/retrospectives/{retro.id}", headers=api(client, bob)).get_json()
    assert [(i["group"], i["votes"]) for i in seen["items"]] == [
        (group.id, 2), (None, 2), (None, 0)]
    assert seen["items"][1]["notes"] == [d.id]
    assert "2 votes" in client.get(path).get_data(as_text=True)


def test_only_the_facilitator_moves_the_phases_one_at_a_time(team, client, login):
    board, ann, bob, vic, retro = team
    path = f"/retrospectives/{retro.id}"
    login("bob")
    before = counts()
    refused = client.post(f"{path}/phase", data={"to": "group"})
    assert refused.status_code == 403 and "Only the facilitator" in refused.get_data(as_text=True)
    assert counts() == before
    client.post("/logout")
    login("ann")
    skipping = client.post(f"{path}/phase", data={"to": "vote"})
    assert skipping.status_code == 422 and "the next one is group" in skipping.get_data(
        as_text=True)
    assert client.post(f"{path}/phase", data={"to": "group"}).status_code == 302
    stale = client.post(f"{path}/phase", data={"to": "group"})  # a second click
    assert stale.status_code == 422 and retro.phase == "group"
    assert client.post(f"{path}/facilitator", data={"to": "vic"}).status_code == 422
    assert client.post(f"{path}/facilitator", data={"to": "bob"}).status_code == 302
    assert client.post(f"{path}/phase", data={"to": "vote"}).status_code == 403
    client.post("/logout")
    login("bob")
    for phase in ("vote", "act", "closed"):
        assert client.post(f"{path}/phase", data={"to": phase}).status_code == 302
    db.session.expire_all()
    assert retro.phase == "closed" and retro.closed_at is not None
    before = counts()
    for route, data in (("notes", {"kind": "well", "body": "x"}), ("actions", {"title": "x"}),
                        ("phase", {"to": "write"}), ("votes", {"note": "1"})):
        closed = client.post(f"{path}/{route}", data=data)
        assert closed.status_code == 422 and "closed" in closed.get_data(as_text=True), route
    assert counts() == before
    types = db.session.scalars(select(Event.type).where(Event.type.like("retro.%"))
                               .order_by(Event.seq)).all()
    assert types == ["retro.started", "retro.phase_changed", "retro.facilitator_changed",
                     "retro.phase_changed", "retro.phase_changed", "retro.closed"]


def test_actions_become_improvement_cards_from_a_retrospective(team, client, login):
    board, ann, bob, vic, retro = team
    note(retro, bob, "Friday deploys hurt", kind="improve")
    path = f"/retrospectives/{retro.id}"
    login("ann")
    early = client.post(f"{path}/actions", data={"title": "No deploys on Friday"})
    assert early.status_code == 422 and "act phase" in early.get_data(as_text=True)
    to_phase(retro, ann, "act")
    answer = client.post(f"{path}/actions", data={"title": "No deploys on Friday",
                                                  "owner": "bob"})
    assert answer.status_code == 302
    card = db.session.scalar(select(Card).where(Card.title == "No deploys on Friday"))
    assert (card.board_id, card.type, card.owner.username) == (board.id, "improvement", "bob")
    assert card.key in client.get("/boards/SIM").get_data(as_text=True)
    assert origin_of(card) == "retrospective"
    assert [r["origin"] for r in register_rows(board) if r["card"] == card.key] == [
        "retrospective"]
    assert "retrospective" in client.get("/boards/SIM/improvements").get_data(as_text=True)
    assert register(card, ann, metric="throughput").origin == "retrospective"
    db.session.commit()
    steps = [s.reason for s in walk_order(board, None, utcnow()) if s.card.id == card.id]
    assert steps and steps[0].startswith("open action from the retrospective of")
    history = client.get(f"/cards/{card.key}").get_data(as_text=True)
    assert "made it an action of the retrospective of" in history
    assert card.key in client.get(path).get_data(as_text=True)
    bad_owner = client.post(f"{path}/actions", data={"title": "Ghost", "owner": "nobody"})
    assert bad_owner.status_code == 422
    assert db.session.scalar(select(Card).where(Card.title == "Ghost")) is None
    move_card(card, ann, column=make.column(board, "Done"))
    db.session.commit()
    assert card.id not in {s.card.id for s in walk_order(board, None, utcnow())}


def test_the_periods_figures_are_the_metrics_pages_for_the_same_days(simple, client, login):
    board, ann, bob = simple
    today = utcnow().date()
    doing, done = make.column(board, "Doing"), make.column(board, "Done")
    for n, (started, finished) in enumerate([(20, 18), (12, 9), (10, 4), (6, 2), (3, 1)]):
        card = make.card(board, ann, f"Ticket {n}", at=utcnow() - timedelta(days=started + 1))
        move_card(card, ann, column=doing, at=utcnow() - timedelta(days=started))
        move_card(card, ann, column=done, at=utcnow() - timedelta(days=finished))
    db.session.commit()
    period_from, period_to = today - timedelta(days=13), today
    retro = services.start_retro(board, ann, period_from=period_from, period_to=period_to)
    db.session.commit()
    auth = api(client, ann)
    figures = client.get(f"/api/v1/retrospectives/{retro.id}", headers=auth).get_json()["figures"]
    for window, (start, end) in (("period", (period_from, period_to)),
                                 ("before", (period_from - timedelta(days=14),
                                             period_from - timedelta(days=1)))):
        metrics = client.get(f"/api/v1/boards/SIM/metrics?from={start}&to={end}",
                             headers=auth).get_json()
        mine = figures[window]
        assert (mine["from"], mine["to"]) == (start.isoformat(), end.isoformat())
        assert mine["throughput"] == metrics["throughput"]["total"]
        assert mine["cycle_p85"] == metrics["cycle_time"]["p85"]
        assert mine["flow_efficiency"] == metrics["flow_efficiency"]
        assert mine["avg_wip"] == metrics["littles_law"]["avg_wip"]
    assert (figures["period"]["throughput"], figures["before"]["throughput"]) == (4, 1)
    login("ann")
    page = client.get(f"/retrospectives/{retro.id}").get_data(as_text=True)
    assert "How the board flowed" in page and "Cards finished" in page


def test_retrospectives_are_listed_as_csv_and_through_the_api(team, client, login):
    board, ann, bob, vic, retro = team
    note(retro, ann, "=HYPERLINK(1)")
    to_phase(retro, ann, "act")
    services.add_action(retro, ann, title="Runbook for the relay", owner="bob")
    to_phase(retro, ann, "closed")
    login("vic")
    page = client.get("/boards/SIM/retrospectives").get_data(as_text=True)
    assert "closed" in page and "Start a retrospective" not in page
    rows = list(csv.reader(io.StringIO(client.get("/boards/SIM/retrospectives.csv")
                                       .get_data(as_text=True))))
    assert rows[0][:4] == ["id", "period_from", "period_to", "phase"]
    assert rows[1][3] == "closed" and rows[1][7] == "1" and rows[1][10:12] == ["1", "1"]
    listed = client.get("/api/v1/boards/SIM/retrospectives",
                        headers=api(client, vic)).get_json()["retrospectives"]
    assert listed[0]["actions"][0]["owner"] == "bob" and listed[0]["actions_open"] == 1
    stranger = api(client, make.user("otto"))
    assert client.get(f"/api/v1/retrospectives/{retro.id}", headers=stranger).status_code == 404
    assert client.get("/api/v1/boards/SIM/retrospectives", headers=stranger).status_code == 404


def test_a_session_is_told_live_and_the_push_carries_no_note_text(team, app, client, login):
    board, ann, bob, vic, retro = team
    login("vic")
    socket = socketio.test_client(app, flask_test_client=client)
    ack = socket.emit("retro_join", {"retro": retro.id}, callback=True)
    assert ack["ok"] and ack["phase"] == "write"
    socket.get_received()
    note(retro, bob, "Secret until grouping")
    heard = [m for m in socket.get_received() if m["name"] == "retro_event"]
    assert [m["args"][0]["types"] for m in heard] == [["retro.note_added"]]
    assert "Secret" not in str(heard)
    refused = socket.emit("retro_join", {"retro": 10**6}, callback=True)
    assert refused["ok"] is False
    socket.disconnect()


def test_chat_channels_hear_of_retrospectives_in_words():
    from app.webhooks.chat import sentence

    event = {"type": "retro.action_added", "actor": "ann", "card": "SIM-4", "board": "SIM",
             "data": {"action": "SIM-4", "title": "Runbook for the relay"}}
    assert sentence(event, "Runbook for the relay") == (
        "ann added an action to the retrospective on SIM: SIM-4 Runbook for the relay")
