"""Alert intake: Alertmanager's and Grafana's webhook bodies, as they send them, open incident
cards in Expedite, update them by fingerprint, pull the andon as the board is set, and say when
the alert is resolved. Bad bodies are refused whole."""

import json

import pytest
from sqlalchemy import func, select

from app.alerts.models import Alert
from app.alerts.services import update_intake
from app.boards.models import Board
from app.boards.services import find_column, update_lane
from app.cards.models import Card
from app.cards.moves import move_card
from app.events.models import Event
from app.extensions import db
from app.swarms.andon import create_hook
from app.swarms.models import Swarm
from tests import factories as make
from tests.test_concurrency import race

HX = {"HX-Request": "true"}
STARTED = "2026-12-06T09:51:03.157076789+02:00"


@pytest.fixture
def ops(app):
    """OPS (restoration: Expedite lane, Reported … Resolved … Closed) owned by ann, bob a
    member, and an incoming webhook token of ann's."""
    ann, bob = make.user("ann"), make.user("bob")
    board = make.board(ann, "restoration", key="OPS")
    make.member(board, bob)
    _, token = create_hook(board, ann, "Alertmanager")
    db.session.commit()
    return board, ann, bob, token


def alertmanager(*alerts, status=None):
    """A body as Alertmanager's webhook_config sends it (version 4)."""
    return {
        "version": "4", "groupKey": '{}:{alertname="HighLatency"}', "truncatedAlerts": 0,
        "status": status or alerts[0]["status"], "receiver": "swarmboard",
        "groupLabels": {"alertname": "HighLatency"}, "commonLabels": {"job": "checkout"},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def alert(status="firing", name="HighLatency", severity="critical", fingerprint="a1b2c3d4e5f60718",
          summary="Checkout p99 above 2 s", **extra):
    return {
        "status": status,
        "labels": {"alertname": name, "severity": severity, "instance": "checkout-1:9100"},
        "annotations": {"summary": summary, "description": "p99 latency is 2.4 s for 10 min",
                        "runbook_url": "https://runbooks.example/checkout"},
        "startsAt": STARTED,
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-06T08:20:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=latency",
        "fingerprint": fingerprint,
        **extra,
    }


def send(client, body, token, key="OPS"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"/hooks/alerts/{key}", data=data, headers=headers,
                       content_type="application/json")


def cards(board):
    db.session.expire_all()
    return list(db.session.scalars(select(Card).where(Card.board_id == board.id)
                                   .order_by(Card.id)))


def event_types(board):
    return list(db.session.scalars(
        select(Event.type).where(Event.board_id == board.id).order_by(Event.seq)))


def last_seq(board):
    db.session.expire_all()
    return db.session.get(Board, board.id).last_seq


def test_a_firing_critical_alert_opens_a_p1_incident_in_expedite_and_pulls_the_andon(client, ops):
    board, _, _, token = ops
    response = send(client, alertmanager(alert()), token)
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    [card] = cards(board)
    assert answer["opened"] == 1 and answer["cards"] == [card.key]
    assert card.title == "HighLatency: Checkout p99 above 2 s (checkout-1:9100)"
    assert (card.type, card.priority, card.lane.name) == ("incident", 1, "Expedite")
    assert card.tags == ["alert", "critical"]
    assert "p99 latency is 2.4 s" in card.description
    assert ("[Runbook](https://runbooks.example/checkout) · [Source](http://prometheus:9090/graph"
            in card.description)
    assert "job: `checkout`" in card.description  # the common labels belong to each alert
    assert card.andon_reason == "Critical alert from Alertmanager: p99 latency is 2.4 s for 10 min"
    swarm = db.session.scalar(select(Swarm).where(Swarm.card_id == card.id))
    assert swarm.type == "andon" and swarm.is_open
    stored = db.session.scalar(select(Alert))
    assert stored.fired_at.isoformat() == "2026-12-06T07:51:03.157076"  # startsAt, in UTC
    assert event_types(board)[-4:] == ["card.created", "alert.fired", "card.andon_pulled",
                                       "swarm.started"]


def test_repeats_of_a_firing_alert_update_its_card_instead_of_opening_more(client, ops):
    board, _, _, token = ops
    send(client, alertmanager(alert()), token)
    seq = last_seq(board)
    again = send(client, alertmanager(alert()), token).get_json()
    assert again["repeated"] == 1 and again["opened"] == 0
    assert len(cards(board)) == 1 and last_seq(board) == seq  # nothing new to say
    changed = send(client, alertmanager(alert(summary="Checkout p99 above 5 s")), token)
    assert changed.get_json()["repeated"] == 1
    [card] = cards(board)
    assert card.title == "HighLatency: Checkout p99 above 5 s (checkout-1:9100)"
    assert event_types(board)[-1] == "card.updated"


def test_a_resolved_alert_says_so_clears_its_andon_and_moves_the_card_as_set(client, ops, login):
    board, ann, _, token = ops
    update_intake(board, ann, andon="critical", resolved_column="Resolved")
    db.session.commit()
    send(client, alertmanager(alert()), token)
    answer = send(client, alertmanager(alert(status="resolved")), token).get_json()
    assert answer["resolved"] == 1
    [card] = cards(board)
    assert card.column.name == "Resolved" and card.andon_at is None
    assert event_types(board)[-3:] == ["alert.resolved", "card.andon_cleared", "card.moved"]
    # The andon swarm stays open: people close it with what they learned.
    assert db.session.scalar(select(Swarm).where(Swarm.card_id == card.id)).is_open
    history = login("bob").get(f"/cards/{card.key}")  # the card's history tells it in words
    assert response_text(history).count("the alert HighLatency is resolved (andon cleared)") == 1
    # Alertmanager repeats resolved notifications: they change nothing more.
    seq = last_seq(board)
    assert send(client, alertmanager(alert(status="resolved")), token).get_json()["repeated"] == 1
    assert last_seq(board) == seq


def response_text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


@pytest.fixture
def ann_client(client, ops, login):
    return login("ann")


def test_a_resolved_alert_on_a_card_already_further_on_does_not_move_it_back(client, ops):
    board, ann, _, token = ops
    update_intake(board, ann, andon="never", resolved_column="Acknowledged")
    db.session.commit()
    send(client, alertmanager(alert()), token)
    [card] = cards(board)
    move_card(card, ann, column=find_column(board, "Investigating"))
    db.session.commit()
    send(client, alertmanager(alert(status="resolved")), token)
    assert cards(board)[0].column.name == "Investigating"


def test_a_full_resolved_column_keeps_the_card_and_the_resolution_says_why(client, ops):
    board, ann, bob, token = ops
    update_intake(board, ann, andon="never", resolved_column="Deploying")  # hard limit 2
    for title in ("Release 41", "Release 42"):
        make.card(board, bob, title, column=find_column(board, "Deploying"))
    db.session.commit()
    send(client, alertmanager(alert()), token)
    send(client, alertmanager(alert(status="resolved")), token)
    card = cards(board)[-1]
    assert card.column.name == "Reported"
    resolved = db.session.scalar(select(Event).where(Event.type == "alert.resolved"))
    assert resolved.data["moved_to"] is None and "Deploying" in resolved.data["not_moved"]
    assert db.session.scalar(select(Alert)).status == "resolved"


def test_an_alert_firing_again_reopens_on_its_live_card_and_on_a_new_one_once_done(client, ops):
    board, ann, _, token = ops
    send(client, alertmanager(alert()), token)
    send(client, alertmanager(alert(status="resolved")), token)
    again = send(client, alertmanager(alert()), token).get_json()
    assert again["refired"] == 1 and len(cards(board)) == 1
    assert db.session.scalar(select(Alert)).times_fired == 2
    first = cards(board)[0]
    send(client, alertmanager(alert(status="resolved")), token)
    db.session.refresh(first)
    move_card(first, ann, column=find_column(board, "Closed"), swarm="cancel")
    db.session.commit()
    third = send(client, alertmanager(alert()), token).get_json()
    assert third["opened"] == 1
    assert [c.key for c in cards(board)] == [first.key, third["cards"][0]]
    assert db.session.scalar(select(Alert)).card.key == third["cards"][0]


@pytest.mark.parametrize(("policy", "severity", "pulled"), [
    ("critical", "critical", True), ("critical", "warning", False), ("always", "info", True),
    ("never", "critical", False),
])
def test_the_board_decides_which_alerts_pull_the_andon(client, ops, policy, severity, pulled):
    board, ann, _, token = ops
    update_intake(board, ann, andon=policy, resolved_column=None)
    db.session.commit()
    send(client, alertmanager(alert(severity=severity)), token)
    [card] = cards(board)
    assert (card.andon_at is not None) is pulled
    assert card.priority == {"critical": 1, "warning": 2, "info": 3}[severity]


def test_one_call_carries_several_alerts_and_tells_what_became_of_each(client, ops):
    board, _, _, token = ops
    send(client, alertmanager(alert(fingerprint="aaaa")), token)
    body = alertmanager(alert(fingerprint="aaaa", status="resolved"),
                        alert(fingerprint="bbbb", name="DiskFull", severity="warning"),
                        alert(fingerprint="cccc", status="resolved", name="Unknown"))
    answer = send(client, body, token).get_json()
    assert {k: answer[k] for k in ("received", "opened", "resolved", "unknown")} == {
        "received": 3, "opened": 1, "resolved": 1, "unknown": 1}
    assert [c.title.split(":")[0] for c in cards(board)] == ["HighLatency", "DiskFull"]


def test_grafana_alerting_bodies_open_cards_with_links_back(client, ops):
    board, _, _, token = ops
    body = {  # Grafana's webhook contact point (unified alerting)
        "receiver": "Swarmboard", "status": "firing", "orgId": 1, "state": "alerting",
        "title": "[FIRING:1] (High memory usage blue)", "message": "**Firing**",
        "groupLabels": {}, "commonLabels": {"alertname": "High memory usage"},
        "commonAnnotations": {}, "externalURL": "https://grafana.example/", "version": "1",
        "groupKey": "{}", "truncatedAlerts": 0,
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
            "annotations": {"description": "The system has high memory usage",
                            "summary": "Triggered for zone us-1"},
            "startsAt": "2026-12-06T09:51:03.157076+02:00", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://grafana.example/alerting/1afz29v7z/edit",
            "fingerprint": "c6eadffa33fcdf37", "silenceURL": "https://grafana.example/silence",
            "dashboardURL": "https://grafana.example/d/abc", "panelURL": "",
            "values": {"B": 44.23943737541908, "C": 1}, "valueString": "[ var='B' value=44 ]",
        }],
    }
    assert send(client, body, token).status_code == 201
    [card] = cards(board)
    assert card.title == "High memory usage: Triggered for zone us-1"
    assert "[Dashboard](https://grafana.example/d/abc)" in card.description
    assert "Panel" not in card.description  # an empty URL is no link
    assert db.session.scalar(select(Alert)).source == "grafana"
    assert card.priority == 3 and card.andon_at is None  # no severity label: standard


def test_grafana_legacy_alerts_fire_on_alerting_and_resolve_on_ok(client, ops):
    board, _, _, token = ops
    legacy = {"dashboardId": 1, "evalMatches": [{"value": 100, "metric": "High value"}],
              "message": "Someone is testing the alert notification", "orgId": 1, "panelId": 2,
              "ruleId": 7, "ruleName": "Panel Title alert",
              "ruleUrl": "http://grafana.example/d/abc?panelId=2", "state": "alerting",
              "tags": {"severity": "critical"}, "title": "[Alerting] Panel Title alert"}
    assert send(client, legacy, token).get_json()["opened"] == 1
    assert send(client, {**legacy, "state": "pending"}, token).get_json()["received"] == 0
    assert send(client, {**legacy, "state": "ok"}, token).get_json()["resolved"] == 1
    [card] = cards(board)
    assert card.title.startswith("Panel Title alert") and card.andon_at is None


@pytest.mark.parametrize(("body", "status", "says"), [
    ("not json", 400, "not JSON"),
    ({"title": "hello"}, 422, '"alerts" list'),
    ({"alerts": "firing"}, 422, '"alerts" must be a list'),
    ({"alerts": [{"status": "burning", "labels": {}}]}, 422, "alerts[0].status"),
    ({"alerts": [{"status": "firing", "labels": "x"}]}, 422, "alerts[0].labels"),
    ({"alerts": [{"status": "firing", "labels": {"a": {"b": 1}}}]}, 422, "alerts[0].labels.a"),
    ({"alerts": [{"status": "firing", "labels": {}, "startsAt": "yesterday"}]}, 422,
     "alerts[0].startsAt"),
    ([1, 2], 422, "webhook body"),
])
def test_a_bad_body_is_refused_with_a_sentence(client, ops, body, status, says):
    board, _, _, token = ops
    response = send(client, body, token)
    assert response.status_code == status
    assert says in response.get_json()["message"]
    assert cards(board) == []


def test_one_bad_alert_refuses_the_whole_call_and_nothing_is_written(client, ops):
    board, _, _, token = ops
    seq = last_seq(board)
    body = alertmanager(alert(fingerprint="good"), {"status": "firing", "labels": [1]})
    response = send(client, body, token)
    assert response.status_code == 422 and "alerts[1].labels" in response.get_json()["message"]
    assert cards(board) == [] and last_seq(board) == seq
    assert db.session.scalar(select(func.count(Alert.id))) == 0


def test_a_5_mb_body_is_refused_as_too_large(client, ops):
    board, _, _, token = ops
    huge = json.dumps(alertmanager(alert(summary="x" * (5 * 1024 * 1024))))
    response = send(client, huge, token)
    assert response.status_code == 413 and "larger than 1 MiB" in response.get_json()["message"]
    assert cards(board) == []


def test_an_unknown_board_a_missing_or_foreign_token_are_refused(client, ops, app):
    board, ann, _, token = ops
    other = make.board(ann, "simple", key="OTH")
    _, other_token = create_hook(other, ann, "Other")
    db.session.commit()
    body = alertmanager(alert())
    assert send(client, body, token, key="NOPE").status_code == 404
    assert send(client, body, None).status_code == 401
    assert send(client, body, other_token).status_code == 403
    assert send(client, body, "sbh_forged").status_code == 403
    assert cards(board) == []


def test_two_alertmanagers_sending_the_same_alert_at_once_open_one_card(app, ops):
    """An Alertmanager HA pair sends each notification from both peers."""
    from app.alerts.services import receive_alerts

    board, _, _, token = ops
    body, board_id = alertmanager(alert()), board.id

    def deliver():
        receive_alerts(db.session.get(Board, board_id), token, body)

    assert race(app, [deliver] * 4) == ["ok"] * 4
    assert len(cards(board)) == 1
    assert event_types(board).count("alert.fired") == 1


def test_owners_set_the_intake_and_see_the_latest_alerts(ann_client, ops):
    board, _, _, token = ops
    send(ann_client, alertmanager(alert()), token)
    response = ann_client.post("/boards/OPS/alert-intake", headers=HX,
                               data={"andon": "always", "resolved_column":
                                     str(find_column(board, "Verifying").id)})
    assert response.status_code == 200
    page = response_text(response)
    assert "Alert intake saved." in page
    assert '<option value="always" selected>' in page
    assert "HighLatency" in page and "firing" in page and "/hooks/alerts/OPS" in page
    refused = ann_client.post("/boards/OPS/alert-intake", headers=HX,
                              data={"andon": "sometimes", "resolved_column": "none"})
    assert refused.status_code == 422 and "When to pull the andon" in refused.get_data(True)
    missing = ann_client.post("/boards/OPS/alert-intake", headers=HX,
                              data={"andon": "never", "resolved_column": "99999"})
    assert missing.status_code == 404


def test_members_cannot_change_the_alert_intake(client, ops, login):
    login("bob")
    response = client.post("/boards/OPS/alert-intake", headers=HX,
                           data={"andon": "never", "resolved_column": "none"})
    assert response.status_code == 403


def test_an_expedite_lane_at_its_hard_limit_sends_the_incident_to_the_standard_lane(client, ops):
    board, ann, bob, token = ops
    expedite = next(lane for lane in board.lanes if lane.class_of_service == "expedite")
    update_lane(board, ann, expedite, wip_limit="1", wip_policy="hard")
    reported = find_column(board, "Reported")
    from app.boards.services import update_column
    update_column(board, ann, reported, kind="queue")  # now Reported counts in the lane
    make.card(board, bob, "Earlier incident", lane=expedite)
    db.session.commit()
    assert send(client, alertmanager(alert()), token).status_code == 201
    card = cards(board)[-1]
    assert card.lane.class_of_service == "standard"
    assert "Not in Expedite" in card.description


def test_a_chat_channel_asking_for_alerts_hears_them_in_words(client, ops, app):
    from app.webhooks.delivery import deliver_due
    from app.webhooks.services import create_webhook
    from tests.receivers import Receiver

    board, ann, _, token = ops
    app.config.update(WEBHOOKS_ALLOW_PRIVATE=True, PUBLIC_URL="https://sb.example")
    with Receiver() as slack:
        create_webhook(board, ann, name="ops", url=slack.url, format="slack", types=["alert.*"])
        db.session.commit()
        send(client, alertmanager(alert()), token)
        send(client, alertmanager(alert(status="resolved")), token)
        deliver_due("test-deliverer")
        fired, resolved = (r.json["text"] for r in slack.received)
    card = cards(board)[0]
    assert fired.startswith(f"Alert HighLatency (critical) fired on {card.key} “HighLatency: "
                            f"Checkout p99 above 2 s (checkout-1:9100)”")
    assert f"<https://sb.example/cards/{card.key}|Open {card.key}>" in fired
    assert resolved.startswith(f"Alert HighLatency resolved on {card.key}")


def test_an_alert_with_a_nul_character_is_refused_and_writes_nothing(client, ops):
    board, ann, bob, token = ops
    before = last_seq(board)
    answer = send(client, alertmanager(alert(summary="Disk\u0000 full")), token)
    assert answer.status_code == 422
    assert "NUL character" in answer.get_json()["message"]
    assert last_seq(board) == before
