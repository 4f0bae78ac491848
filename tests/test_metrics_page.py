"""The metrics page: who may see it, its filters, its charts, its CSV downloads and the forecast."""

import csv
import io
import re
from datetime import timedelta

import pytest

from app.demo import DEMO_PASSWORD, seed_demo
from app.extensions import db
from app.metrics.forecast import ForecastQuery, forecast
from app.metrics.services import board_today
from app.metrics.tables import TABLES
from app.web import metrics as routes
from tests import factories as make
from tests.metrics_sample import sample_forecast, sample_report


@pytest.fixture
def demo(app):
    board = seed_demo(days=21)
    db.session.commit()
    return board


@pytest.fixture
def reports(monkeypatch):
    """Every report the routes computed, so a test can compare the page with its numbers."""
    seen = []
    real = routes.board_metrics

    def recording(board, query, *args, **kwargs):
        seen.append(real(board, query, *args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(routes, "board_metrics", recording)
    return seen


@pytest.fixture
def sample(monkeypatch, simple):
    """The SIM board's page drawn from a hand-made report we control."""
    report = sample_report()
    monkeypatch.setattr(routes, "board_metrics", lambda board, query: report)
    return report


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def cell(value) -> str:
    return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def svg(page: str, chart: str) -> str:
    match = re.search(rf'<svg class="chart" data-chart="{chart}".*?</svg>', page, re.S)
    assert match, f"no {chart} chart on the page"
    return match.group(0)


# --- access -----------------------------------------------------------------------------------


def test_member_sees_every_chart_of_the_demo_board(client, login, demo, reports):
    login("alice", DEMO_PASSWORD)
    page = client.get("/boards/SUP/metrics").get_data(as_text=True)
    report = reports[-1]
    assert report["throughput"]["total"] > 0
    for chart in (
        "cfd",
        "scatter",
        "aging",
        "throughput",
        "throughput-histogram",
        "cycle-time",
        "lead-time",
        "wip",
        "flow-efficiency",
        "blocked",
    ):
        assert f'data-chart="{chart}"' in page
    assert f'data-tile="wip">{report["wip"]}<' in page
    assert f'data-tile="throughput">{report["throughput"]["total"]}<' in page
    assert svg(page, "scatter").count('<circle class="dot') == len(report["finished"])
    assert "Value-stream map" in page and "Little&#39;s law check" in page
    assert 'id="forecast-form"' in page
    assert 'href="/static/css/metrics.css"' in page


def test_viewer_may_look(client, login, simple):
    board, ann, _ = simple
    make.member(board, make.user("vic"), "viewer")
    login("vic")
    assert client.get("/boards/SIM/metrics").status_code == 200


def test_non_member_gets_not_found(client, login, simple):
    make.user("eve")
    login("eve")
    response = client.get("/boards/SIM/metrics")
    assert response.status_code == 404
    assert "There is no board SIM." in response.get_data(as_text=True)
    assert client.get("/boards/SIM/metrics/cfd.csv").status_code == 404


def test_anonymous_is_sent_to_log_in(client, simple):
    response = client.get("/boards/SIM/metrics")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]


# --- filters ----------------------------------------------------------------------------------


def test_filters_live_in_the_url_and_narrow_what_is_shown(client, login, demo, reports):
    login("alice", DEMO_PASSWORD)
    everything = client.get("/boards/SUP/metrics").get_data(as_text=True)
    all_finished = len(reports[-1]["finished"])
    today = board_today(demo)
    start = (today - timedelta(days=13)).isoformat()
    response = client.get(f"/boards/SUP/metrics?from={start}&to={today}&type=incident")
    page = response.get_data(as_text=True)
    report = reports[-1]

    assert f'name="from" value="{start}"' in page
    assert '<option value="incident" selected>' in page
    assert "Only cards with type <strong>incident</strong>" in page
    assert report["window"] == {"from": start, "to": today.isoformat(), "days": 14}
    assert all(f["type"] == "incident" for f in report["finished"])
    assert len(report["finished"]) < all_finished
    assert svg(page, "scatter").count('<circle class="dot') == len(report["finished"])
    assert svg(everything, "scatter").count('<circle class="dot') == all_finished
    # The downloads keep the filters.
    assert f"/boards/SUP/metrics/cfd.csv?from={start}&amp;to={today}&amp;type=incident" in page


def test_lane_filter_selects_the_class_of_service(client, login, demo, reports):
    login("alice", DEMO_PASSWORD)
    page = client.get("/boards/SUP/metrics?lane=Expedite").get_data(as_text=True)
    assert '<option value="Expedite" selected>' in page
    assert all(f["lane"] == "Expedite" for f in reports[-1]["finished"])


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ("from=2026-11-20&to=2026-11-01", "The window is inverted"),
        ("from=yesterday", "&#39;from&#39; must be a date like"),
        ("lane=Platinum", "has no lane &#39;Platinum&#39;"),
        ("type=meeting", "Unknown card type &#39;meeting&#39;"),
        ("colour=red", "Unknown filter &#39;colour&#39;"),
    ],
)
def test_bad_filters_get_a_sentence_not_a_crash(client, login, simple, query, sentence):
    login("ann")
    response = client.get(f"/boards/SIM/metrics?{query}")
    assert response.status_code == 422
    assert sentence in response.get_data(as_text=True)
    assert client.get(f"/boards/SIM/metrics/cfd.csv?{query}").status_code == 422


# --- CSV downloads ----------------------------------------------------------------------------


def test_every_csv_holds_the_reports_numbers(client, login, demo, reports):
    login("alice", DEMO_PASSWORD)
    for name, table in TABLES.items():
        rows = read_csv(client.get(f"/boards/SUP/metrics/{name}.csv?type=incident"))
        header, expected = table(reports[-1])
        assert rows[0] == header, name
        assert rows[1:] == [[cell(v) for v in row] for row in expected], name
        assert reports[-1]["filters"]["type"] == "incident"


def test_csv_headers_and_rows_on_the_sample(client, login, sample):
    login("ann")
    cfd = read_csv(client.get("/boards/SIM/metrics/cfd.csv"))
    assert cfd[0] == ["date", *[c["name"] for c in sample["columns"]]]
    assert len(cfd) == 1 + 30
    assert cfd[1][-1] == str(sample["cfd"][0]["columns"]["Closed"])
    throughput = read_csv(client.get("/boards/SIM/metrics/throughput.csv"))
    assert throughput[0] == ["date", "finished"]
    assert sum(int(r[1]) for r in throughput[1:]) == sample["throughput"]["total"]
    blocked = read_csv(client.get("/boards/SIM/metrics/blocked.csv"))
    assert blocked == [
        ["reason", "count", "days"],
        ["Waiting for vendor", "4", "6.5"],
        ["Waiting for the customer to confirm", "7", "3.25"],
        ["Change freeze", "1", "1.0"],
    ]
    aging = read_csv(client.get("/boards/SIM/metrics/aging-wip.csv"))
    assert aging[0] == ["card", "title", "column", "age_days", "blocked"]
    assert aging[1] == ["SUP-200", "Open card 0", "Acknowledged", "0.3", "true"]
    response = client.get("/boards/SIM/metrics/cycle-time.csv")
    assert (
        'filename="SIM-cycle-time-2026-10-27-to-2026-11-25.csv"'
        in response.headers["Content-Disposition"]
    )


def test_unknown_chart_csv_is_not_found_with_a_sentence(client, login, simple):
    login("ann")
    response = client.get("/boards/SIM/metrics/pie.csv")
    assert response.status_code == 404
    assert "There is no chart &#39;pie&#39;" in response.get_data(as_text=True)


# --- what the charts show ---------------------------------------------------------------------


def test_scatter_has_a_dot_per_finished_card_and_the_sle_line(client, login, sample):
    login("ann")
    page = client.get("/boards/SIM/metrics").get_data(as_text=True)
    scatter = svg(page, "scatter")
    p85 = sample["cycle_time"]["p85"]
    assert scatter.count("<circle") == 40
    late = [f for f in sample["finished"] if f["cycle_time_days"] > p85]
    assert scatter.count('class="dot late"') == len(late) > 0
    assert f"85th SLE {p85:.1f} d" in scatter
    for p in (50, 70, 95):
        assert f"{p}th {sample['cycle_time'][f'p{p}']:.1f} d" in scatter
    assert "SUP-100 Sample incident 0" in scatter  # hover titles name the card
    assert f'data-tile="sle">{p85:.1f}<' in page


def test_aging_chart_marks_cards_past_the_sle_and_blocked_ones(client, login, sample):
    login("ann")
    aging = svg(client.get("/boards/SIM/metrics").get_data(as_text=True), "aging")
    sle = sample["sle_days"]
    items = sample["aging_wip"]
    assert len(re.findall(r'class="dot[ "]', aging)) == len(items)
    assert aging.count(" late") == sum(i["age_days"] > sle for i in items)
    assert aging.count('class="dot blocked') == sum(i["blocked"] for i in items)
    assert aging.count('<rect class="age-band') == 5
    names = re.findall(r"<title>([^<]+)</title></text>", aging)
    assert names == [c["name"] for c in sample["columns"] if c["kind"] in ("queue", "active")]


def test_cfd_stacks_every_column_with_a_legend_in_column_order(client, login, sample):
    login("ann")
    page = client.get("/boards/SIM/metrics").get_data(as_text=True)
    cfd = svg(page, "cfd")
    names = [c["name"] for c in sample["columns"]]
    assert re.findall(r'data-column="([^"]+)"', cfd) == list(reversed(names))  # done first
    legend = page[page.index('<ul class="legend" aria-label="Columns') :]
    assert re.findall(r"</span>([^<]+)</li>", legend)[: len(names)] == names
    assert cfd.count("end of day\n") == 30  # a hover strip per day with its counts


def test_throughput_shows_every_day_including_zero_days(client, login, sample):
    login("ann")
    chart = svg(client.get("/boards/SIM/metrics").get_data(as_text=True), "throughput")
    zero_days = sum(d["count"] == 0 for d in sample["throughput"]["per_day"])
    assert zero_days > 0
    assert chart.count('class="bar-zero"') == zero_days
    assert chart.count('class="bar"') == 30 - zero_days
    assert chart.count("0 finished</title>") >= zero_days
    assert f"mean {sample['throughput']['mean_per_day']:.2f}/day" in chart


def test_little_law_and_value_stream_show_the_reports_figures(client, login, sample):
    login("ann")
    page = client.get("/boards/SIM/metrics").get_data(as_text=True)
    law = sample["littles_law"]
    assert f'data-ll="avg_wip">{law["avg_wip"]:.2f} cards' in page
    assert f'data-ll="expected_wip">{law["expected_wip"]:.2f} cards' in page
    assert f'data-ll="ratio">{law["ratio"]:.2f}' in page
    assert page.count('class="vs-step kind-queue"') == 4
    assert page.count('class="vs-step kind-active"') == 5
    assert f'{sample["flow_efficiency"] * 100:.0f}%' in page


def test_a_board_without_finishes_shows_empty_states(client, login, simple):
    board, ann, _ = simple
    make.card(board, ann, "Nothing finished yet")
    login("ann")
    response = client.get("/boards/SIM/metrics")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No finished cards in this window." in page
    for chart in (
        "scatter",
        "cycle-time",
        "lead-time",
        "flow-efficiency",
        "throughput",
        "throughput-histogram",
    ):
        assert f'<p class="chart-empty" data-chart="{chart}">' in page
    assert "No started cards are in progress." in page
    assert "No card was blocked in this window." in page
    assert 'data-tile="throughput">0<' in page
    assert read_csv(client.get("/boards/SIM/metrics/cycle-time.csv"))[1:] == []


# --- forecast ---------------------------------------------------------------------------------


def test_forecast_fragment_shows_the_confidence_table(client, login, demo):
    login("alice", DEMO_PASSWORD)
    by = (board_today(demo) + timedelta(days=14)).isoformat()
    args = f"how_many_by={by}&trials=2000&seed=7&basis_days=14"
    response = client.get(
        f"/boards/SUP/metrics/forecast?question=how_many&{args}&when=20",
        headers={"HX-Request": "true"},
    )
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in fragment
    expected = forecast(
        demo,
        ForecastQuery.from_args(
            demo, {"how_many_by": by, "trials": "2000", "seed": "7", "basis_days": "14"}
        ),
    )
    for row in expected["results"]:
        assert f"<td>{row['confidence']}%</td>" in fragment
        assert f'<td class="num">{row["items"]} cards</td>' in fragment
    assert 'data-chart="forecast"' in fragment
    rows = read_csv(client.get(f"/boards/SUP/metrics/forecast.csv?{args}"))
    assert rows == [
        ["confidence", f"items_by_{by}"],
        *[[str(r["confidence"]), str(r["items"])] for r in expected["results"]],
    ]


def test_when_forecast_lists_dates(client, login, simple, monkeypatch):
    monkeypatch.setattr(routes, "forecast", lambda board, query: sample_forecast("when"))
    login("ann")
    fragment = client.get(
        "/boards/SIM/metrics/forecast?question=when&when=20&how_many_by=" "2030-01-01"
    ).get_data(as_text=True)
    assert "When will 20 cards be done" in fragment
    assert "<td>2026-12-14</td>" in fragment
    assert fragment.count('class="bar"') == len(sample_forecast("when")["histogram"])


def test_absurd_forecast_gets_a_sentence(client, login, simple):
    login("ann")
    response = client.get(
        "/boards/SIM/metrics/forecast?question=when&when=5&trials=999999999",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "trials" in response.get_data(as_text=True)
