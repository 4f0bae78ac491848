"""GET /api/v1/boards/<KEY>/metrics and /forecast: the documented JSON contract."""

from datetime import timedelta

import pytest

from app.cards.moves import move_card
from app.cards.services import block_card, create_card
from app.clock import utcnow
from app.extensions import db
from app.metrics.services import MetricsQuery, board_metrics
from tests import factories as make
from tests.test_api import bearer


@pytest.fixture
def flowing(app):
    """SIM with ten cards finished over the last ten days, one in progress, one blocked."""
    ann, out = make.user("ann"), make.user("out")
    board = make.board(ann, "simple", key="SIM")
    doing, done = make.column(board, "Doing"), make.column(board, "Done")
    now = utcnow()
    for day in range(1, 11):
        card = create_card(board, ann, title=f"Card {day}", column=doing, type="incident",
                           at=now - timedelta(days=day, hours=5), override_reason="history")
        move_card(card, ann, column=done, at=now - timedelta(days=day, hours=5 - day % 4))
    open_card = create_card(board, ann, title="Open", column=doing, type="change",
                            at=now - timedelta(hours=30))
    block_card(open_card, ann, "Waiting for vendor", at=now - timedelta(hours=3))
    db.session.commit()
    return board, bearer(ann), bearer(out)


def test_metrics_json_has_the_documented_keys_and_the_page_numbers(client, flowing):
    board, auth, _ = flowing
    response = client.get("/api/v1/boards/SIM/metrics", headers=auth)
    assert response.status_code == 200
    body = response.get_json()
    for key in ("window", "wip", "throughput", "cycle_time", "lead_time", "sle_days",
                "flow_efficiency", "cfd", "aging_wip", "blocked"):
        assert key in body
    assert set(body["window"]) >= {"from", "to"}
    assert set(body["cycle_time"]) >= {"count", "mean", "p50", "p70", "p85", "p95"}
    assert body["throughput"]["total"] == 10
    assert body["wip"] == 1
    assert body["aging_wip"][0]["card"] == "SIM-11"
    assert body["blocked"][0]["reason"] == "Waiting for vendor"
    assert body == board_metrics(board, MetricsQuery.from_args(board, {}))


def test_metrics_filters_arrive_as_query_parameters(client, flowing):
    _, auth, _ = flowing
    today = utcnow().date()
    window = {"from": (today - timedelta(days=3)).isoformat(), "to": today.isoformat()}
    body = client.get("/api/v1/boards/SIM/metrics", headers=auth,
                      query_string={**window, "type": "change"}).get_json()
    assert body["window"]["from"] == window["from"]
    assert body["filters"]["type"] == "change"
    assert body["throughput"]["total"] == 0
    assert body["wip"] == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-02-10", "to": "2026-02-01"}, "inverted"),
        ({"from": "not-a-date"}, "must be a date"),
        ({"lane": "Nope"}, "no lane"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_metric_queries_get_422_with_a_sentence(client, flowing, query, message):
    _, auth, _ = flowing
    response = client.get("/api/v1/boards/SIM/metrics", headers=auth, query_string=query)
    assert response.status_code == 422
    assert message in response.get_json()["message"]


def test_metrics_of_a_board_you_do_not_belong_to_are_404(client, flowing):
    _, _, outsider = flowing
    assert client.get("/api/v1/boards/SIM/metrics", headers=outsider).status_code == 404
    assert client.get("/api/v1/boards/SIM/forecast?when=3", headers=outsider).status_code == 404


def test_forecast_returns_the_percentile_table(client, flowing):
    _, auth, _ = flowing
    response = client.get("/api/v1/boards/SIM/forecast", headers=auth,
                          query_string={"when": "5", "trials": "500", "seed": "4"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["mode"] == "when"
    assert [r["confidence"] for r in body["results"]] == [50, 70, 85, 95]
    days = [r["days"] for r in body["results"]]
    assert days == sorted(days)  # more confidence never comes sooner
    again = client.get("/api/v1/boards/SIM/forecast", headers=auth,
                       query_string={"when": "5", "trials": "500", "seed": "4"}).get_json()
    assert again["results"] == body["results"]


def test_absurd_trial_counts_are_refused(client, flowing):
    _, auth, _ = flowing
    response = client.get("/api/v1/boards/SIM/forecast", headers=auth,
                          query_string={"when": "5", "trials": "50000000"})
    assert response.status_code == 422
    assert "trials must be between" in response.get_json()["message"]


def test_the_openapi_document_describes_metrics_and_forecast(client, flowing):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/boards/{key}/metrics" in spec["paths"]
    forecast = spec["paths"]["/api/v1/boards/{key}/forecast"]["get"]
    assert {p["name"] for p in forecast["parameters"]} >= {"how_many_by", "when", "trials", "seed"}


def test_metrics_csv_quotes_text_that_looks_like_a_formula_but_not_numbers():
    from app.metrics.tables import to_csv

    text = to_csv(["card", "title", "days"], [["SIM-1", "=1+1", -2.5], ["SIM-2", "@SUM(A1)", 3]])
    assert text.splitlines() == ["card,title,days", "SIM-1,'=1+1,-2.5", "SIM-2,'@SUM(A1),3"]
