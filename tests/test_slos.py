"""Service level objectives and error budgets: andon time, incident cards and alerts spend a
board's budget (an outage counted by several of them once); under the threshold a feature card
entering the commitment point needs a reason, recorded like a WIP override, and reliability
work sorts first; the board, the wall, the page, the API and the CSV show what is left."""

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.services import create_token
from app.cards.moves import move_card
from app.cards.services import create_card
from app.clock import utcnow
from app.errors import ErrorBudgetLow, Forbidden, Invalid
from app.events.models import Event
from app.extensions import db
from app.slos.budget import budget_of
from app.slos.models import ServiceObjective
from app.slos.services import check_budgets, define_objective, update_objective
from app.swarms.andon import clear_andon, pull_andon
from tests import factories as make

NOW = utcnow().replace(microsecond=0)


def objective(board, actor, **fields):
    """99% over 10 days: a budget of 144 minutes."""
    made = define_objective(board, actor, **{
        "name": "Service up", "target": "99", "window_days": "10", "threshold": "25",
        "count_andon": "1", "incident_priority": "1", "alerts": "critical", **fields})
    db.session.commit()
    return made


def outage(card, actor, start, minutes):
    pull_andon(card, actor, "down", at=start)
    clear_andon(card, actor, at=start + timedelta(minutes=minutes))
    db.session.commit()


def events(kind):
    return db.session.scalars(select(Event).where(Event.type == kind).order_by(Event.seq)).all()


def test_andon_time_spends_the_budget_and_overlaps_count_once(simple):
    board, ann, bob = simple
    slo = objective(board, ann)
    assert budget_of(slo, NOW).budget_minutes == pytest.approx(144)
    one, two = make.card(board, ann, "Checkout down"), make.card(board, ann, "Payments down")
    outage(one, ann, NOW - timedelta(days=2), 60)
    outage(two, ann, NOW - timedelta(days=2, minutes=-30), 60)  # overlaps the first by 30
    outage(one, ann, NOW - timedelta(days=30), 600)  # outside the 10-day window
    budget = budget_of(slo, NOW)
    assert budget.spent_minutes == pytest.approx(90)
    assert budget.left_percent == pytest.approx(100 * (144 - 90) / 144)
    assert budget.state == "ok"
    assert budget.availability == pytest.approx(100 * (14400 - 90) / 14400)


def test_an_andon_still_pulled_keeps_spending_until_now(simple):
    board, ann, bob = simple
    slo = objective(board, ann)
    card = make.card(board, ann, "Down")
    pull_andon(card, ann, "down", at=NOW - timedelta(minutes=120))
    db.session.commit()
    budget = budget_of(slo, NOW)
    assert budget.spent_minutes == pytest.approx(120)
    assert budget.state == "low"  # 24 of 144 minutes left: under 25%
    assert [(o.source, o.end) for o in budget.outages] == [("andon", None)]
    assert budget.burn_rate == pytest.approx(120 / 1440 / 0.01)


def test_an_outage_that_began_before_the_window_counts_from_its_start(simple):
    board, ann, bob = simple
    slo = objective(board, ann)
    outage(make.card(board, ann, "Long"), ann, NOW - timedelta(days=10, minutes=30), 90)
    assert budget_of(slo, NOW).spent_minutes == pytest.approx(60)


def test_p1_incident_cards_count_from_creation_until_restored(simple):
    board, ann, bob = simple
    doing, done = make.column(board, "Doing"), make.column(board, "Done")
    slo = objective(board, ann, count_andon="", alerts="none", restored_column=str(doing.id))
    p1 = make.card(board, ann, "Site down", type="incident", impact="high", urgency="high")
    p3 = make.card(board, ann, "Slow report", type="incident", impact="low", urgency="high")
    for card in (p1, p3):  # made now: backdate as if registered 100 minutes ago
        card.created_at = NOW - timedelta(minutes=100)
    db.session.commit()
    assert budget_of(slo, NOW).spent_minutes == pytest.approx(100)  # the P1 only, going on
    move_card(p1, ann, column=doing, at=NOW - timedelta(minutes=40))
    move_card(p1, ann, column=done, at=NOW - timedelta(minutes=10))
    db.session.commit()
    assert budget_of(slo, NOW).spent_minutes == pytest.approx(60)  # restored on entering Doing
    update_objective(slo, ann, **{**_settings(slo), "restored_column": ""})
    db.session.commit()
    assert budget_of(slo, NOW).spent_minutes == pytest.approx(90)  # until done instead


def _settings(slo):
    return {"name": slo.name, "target": str(slo.target), "window_days": str(slo.window_days),
            "threshold": str(slo.threshold), "count_andon": "1" if slo.count_andon else "",
            "incident_priority": str(slo.incident_priority), "alerts": slo.alerts,
            "lane": str(slo.lane_id or ""),
            "restored_column": str(slo.restored_column_id or "")}


def test_a_lane_objective_counts_only_its_lane(simple):
    board, ann, bob = simple
    from app.boards.services import add_lane

    expedite = add_lane(board, ann, name="Expedite", class_of_service="expedite")
    db.session.commit()
    slo = objective(board, ann, lane=str(expedite.id))
    outage(make.card(board, ann, "Elsewhere"), ann, NOW - timedelta(hours=3), 50)
    outage(make.card(board, ann, "Here", lane=expedite), ann, NOW - timedelta(hours=2), 20)
    assert budget_of(slo, NOW).spent_minutes == pytest.approx(20)


@pytest.mark.parametrize("fields, message", [
    ({"target": "100"}, "Target must be between"),
    ({"target": "ninety"}, "Target must be a number"),
    ({"window_days": "0"}, "Window (days) must be between 1 and 90"),
    ({"threshold": "150"}, "between 0 and 100"),
    ({"alerts": "loud"}, "Alerts counted must be one of"),
    ({"name": "  "}, "Name cannot be empty"),
    ({"count_andon": "", "incident_priority": "0", "alerts": "none"}, "needs something to count"),
    ({"lane": "999999"}, "is not on board SIM"),
])
def test_a_bad_objective_is_refused_with_a_sentence_and_nothing_written(simple, fields, message):
    board, ann, bob = simple
    with pytest.raises(Invalid, match=message.replace("(", r"\(").replace(")", r"\)")):
        objective(board, ann, **fields)
    db.session.rollback()
    assert db.session.scalars(select(ServiceObjective)).all() == []
    assert events("slo.defined") == []


def test_only_owners_define_objectives(simple):
    board, ann, bob = simple
    with pytest.raises(Forbidden):
        objective(board, bob)


def low_budget(board, ann):
    """SIM's objective with 24 of its 144 minutes left, as the round has seen."""
    slo = objective(board, ann)
    outage(make.card(board, ann, "Outage"), ann, NOW - timedelta(hours=5), 120)
    assert check_budgets() == 1
    db.session.commit()
    return slo


def test_a_budget_going_low_is_an_event_once(simple):
    board, ann, bob = simple
    slo = low_budget(board, ann)
    assert slo.state == "low"
    assert check_budgets() == 0
    [event] = events("slo.budget_low")
    assert event.data["name"] == "Service up" and event.data["left_percent"] == pytest.approx(
        100 * 24 / 144, abs=0.1)


def test_starting_a_feature_under_a_low_budget_needs_a_reason_which_is_recorded(simple):
    board, ann, bob = simple
    low_budget(board, ann)
    feature = make.card(board, bob, "Dark mode", type="feature")
    defect = make.card(board, bob, "Crash on save", type="defect")
    doing = make.column(board, "Doing")
    with pytest.raises(ErrorBudgetLow, match="Service up .* has 17% of its error budget left") \
            as refused:
        move_card(feature, bob, column=doing)
    assert refused.value.needs_reason
    db.session.rollback()
    assert feature.column.name == "To do"
    move_card(defect, bob, column=doing)  # reliability work: no question asked
    move_card(feature, bob, column=doing, override_reason="Promised to the customer for Monday")
    db.session.commit()
    [override] = events("slo.overridden")
    assert (override.card_id, override.actor_id) == (feature.id, bob.id)
    assert override.data["reason"] == "Promised to the customer for Monday"
    assert override.data["card_key"] == feature.key


def test_a_feature_already_started_moves_on_freely(simple):
    board, ann, bob = simple
    feature = make.card(board, bob, "Dark mode", type="feature")
    move_card(feature, bob, column=make.column(board, "Doing"))
    db.session.commit()
    low_budget(board, ann)
    move_card(feature, bob, column=make.column(board, "Done"))
    db.session.commit()
    assert events("slo.overridden") == []


def test_under_a_low_budget_reliability_work_sorts_first_in_every_column(simple, client, login):
    board, ann, bob = simple
    titles = ["Feature one", "Incident two", "Feature three", "Problem four"]
    types = ["feature", "incident", "feature", "problem"]
    for title, kind in zip(titles, types, strict=True):
        make.card(board, ann, title, type=kind)
    login("ann")

    def order():
        page = client.get("/boards/SIM").get_data(as_text=True)
        return sorted(titles, key=page.index)

    assert order() == titles  # manual: the order they were made in
    low_budget(board, ann)
    assert order() == ["Incident two", "Problem four", "Feature one", "Feature three"]


def test_a_move_within_a_reordered_cell_lands_where_it_was_dropped(simple, client, login):
    board, ann, bob = simple
    cards = [make.card(board, ann, title, type=kind) for title, kind in (
        ("F1", "feature"), ("I1", "incident"), ("F2", "feature"), ("I2", "incident"),
        ("I3", "incident"))]
    low_budget(board, ann)
    # Shown: I1 I2 I3 F1 F2 (+ the outage's card); drop I3 at the top of the incidents.
    move_card(cards[4], ann, column=make.column(board, "To do"), position=0)
    db.session.commit()
    login("ann")
    page = client.get("/boards/SIM").get_data(as_text=True)
    shown = sorted(["F1", "I1", "F2", "I2", "I3"], key=lambda t: page.index(f">{t}<"))
    assert shown == ["I3", "I1", "I2", "F1", "F2"]


def test_the_board_and_the_page_show_the_budget_left(simple, client, login):
    board, ann, bob = simple
    low_budget(board, ann)
    login("bob")
    strip = client.get("/boards/SIM").get_data(as_text=True)
    strip = strip[strip.index('id="slo-strip"'):]
    strip = strip[:strip.index("</section>")]
    assert "Service up" in strip and "17% left" in strip and "reliability first" in strip
    page = client.get("/boards/SIM/slos").get_data(as_text=True)
    assert "Budget low: reliability first" in page
    assert "2 h of 2.4 h" in page  # spent 120 of 144 minutes
    assert "Outage" in page  # what spent it
    assert 'action="/boards/SIM/slos"' not in page  # bob is no owner: no form


def test_an_owner_defines_an_objective_through_the_page(simple, client, login):
    board, ann, bob = simple
    login("ann")
    answer = client.post("/boards/SIM/slos", data={
        "name": "API up", "target": "99.9", "window_days": "28", "threshold": "25",
        "count_andon": "1", "incident_priority": "2", "alerts": "all", "lane": "",
        "restored_column": ""})
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "API up" in page and "Within budget" in page
    refused = client.post("/boards/SIM/slos", data={"name": "API up", "target": "99.9"})
    assert refused.status_code == 422
    assert "already has an objective called" in refused.get_data(as_text=True)
    login("bob")
    assert client.post("/boards/SIM/slos", data={"name": "X", "target": "99"}).status_code == 403


def test_the_api_and_the_csv_give_the_budgets_and_outages(simple, client, login):
    board, ann, bob = simple
    low_budget(board, ann)
    token = create_token(bob, "reports")
    db.session.commit()
    answer = client.get("/api/v1/boards/SIM/slos", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    [slo] = answer.get_json()["objectives"]
    assert slo["name"] == "Service up" and slo["state"] == "low"
    assert slo["budget_minutes"] == pytest.approx(144)
    assert slo["spent_minutes"] == pytest.approx(120)
    assert [o["source"] for o in slo["outages"]] == ["andon"]
    login("bob")
    rows = list(csv.DictReader(io.StringIO(client.get("/boards/SIM/slos.csv").get_data(
        as_text=True))))
    assert [(r["objective"], r["source"], r["minutes_in_window"]) for r in rows] == [
        ("Service up", "andon", "120.0")]


def test_a_recovered_budget_lifts_the_rule(simple):
    board, ann, bob = simple
    slo = low_budget(board, ann)
    update_objective(slo, ann, **{**_settings(slo), "target": "98"})  # now 288 minutes
    db.session.commit()
    assert slo.state == "ok"
    feature = make.card(board, bob, "Dark mode", type="feature")
    move_card(feature, bob, column=make.column(board, "Doing"))
    db.session.commit()
    assert events("slo.overridden") == []


def test_a_feature_created_straight_into_progress_is_gated_too(simple):
    board, ann, bob = simple
    low_budget(board, ann)
    with pytest.raises(ErrorBudgetLow):
        create_card(board, bob, title="Dark mode", type="feature",
                    column=make.column(board, "Doing"))
    db.session.rollback()
    create_card(board, bob, title="Dark mode", type="feature",
                column=make.column(board, "Doing"), override_reason="Contract")
    db.session.commit()
    assert len(events("slo.overridden")) == 1


def test_a_lane_with_an_objective_is_not_removed_from_under_it(simple):
    board, ann, bob = simple
    from app.boards.services import add_lane, remove_lane

    expedite = add_lane(board, ann, name="Expedite", class_of_service="expedite")
    db.session.commit()
    objective(board, ann, lane=str(expedite.id))
    with pytest.raises(Invalid, match="Lane 'Expedite' has the service level objective "
                                      "Service up"):
        remove_lane(board, ann, expedite)
    db.session.rollback()
    assert expedite in board.lanes


def test_the_wall_shows_each_budget_left(simple, client):
    from app.wall.services import create_wall_link

    board, ann, bob = simple
    low_budget(board, ann)
    _, token = create_wall_link(board, ann, "TV")
    db.session.commit()
    wall = client.get(f"/wall/{token}").get_data(as_text=True)
    figure = wall[wall.index("figure budget"):]
    figure = figure[:figure.index("</div>")]
    assert "budget-low" in figure and "Service up" in figure and "17%" in figure


def test_the_api_asks_for_a_reason_to_start_a_feature_under_a_low_budget(simple, client):
    board, ann, bob = simple
    low_budget(board, ann)
    feature = make.card(board, bob, "Dark mode", type="feature")
    token = create_token(bob, "bot")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/cards/{feature.key}/move"
    refused = client.post(url, json={"column": "Doing"}, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["error"] == "error_budget"
    assert refused.get_json()["needs_reason"] is True
    assert "Reliability work goes first" in refused.get_json()["message"]
    assert events("slo.overridden") == []
    moved = client.post(url, json={"column": "Doing", "override_reason": "Contract date"},
                        headers=headers)
    assert moved.status_code == 200
    assert [e.data["reason"] for e in events("slo.overridden")] == ["Contract date"]


def test_alerts_count_from_firing_to_resolved_by_severity_however_long_ago_they_fired(simple):
    from app.alerts.services import receive_alerts
    from app.swarms.andon import create_hook
    from tests.test_alerts import alert, alertmanager

    board, ann, bob = simple
    _, token = create_hook(board, ann, "Alertmanager")
    db.session.commit()
    slo = objective(board, ann, count_andon="", incident_priority="0")

    def say(at, *alerts):
        receive_alerts(board, token, alertmanager(*alerts), at=at)
        db.session.commit()

    say(NOW - timedelta(days=40), alert(fingerprint="critical1"),
        alert(severity="warning", fingerprint="warning1", name="DiskFilling"))
    say(NOW - timedelta(days=9), alert("resolved", fingerprint="critical1"))
    assert budget_of(slo, NOW).spent_minutes == pytest.approx(1440)  # its last day in the window
    update_objective(slo, ann, **{**_settings(slo), "alerts": "all"})
    db.session.commit()
    assert budget_of(slo, NOW).spent_minutes == pytest.approx(14400)  # the warning: all along
    assert {o.source for o in budget_of(slo, NOW).outages} == {"alert"}


def test_every_member_hears_of_a_budget_running_low(simple):
    from app.notifications.models import Notification

    board, ann, bob = simple
    slo = low_budget(board, ann)
    told = db.session.scalars(select(Notification).where(Notification.kind == "budget")).all()
    assert {n.user_id for n in told} == {ann.id, bob.id}  # the round did it: nobody's own act
    [said] = {n.text for n in told}
    assert said == "Swarmboard says the error budget of Service up is low (17% left): " \
                   "reliability work first"
    assert {n.url for n in told} == {f"/boards/SIM/slos#slo-{slo.id}"}
