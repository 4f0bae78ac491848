"""A person reads the demo board's metrics in a real browser and asks for a forecast."""

import pytest
from playwright.sync_api import expect

from app.demo import DEMO_PASSWORD, seed_demo
from app.extensions import db
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

CHARTS = (
    "cfd",
    "aging",
    "scatter",
    "cycle-time",
    "lead-time",
    "flow-efficiency",
    "throughput",
    "throughput-histogram",
    "wip",
    "blocked",
)


@pytest.fixture
def demo_board(live_app):
    with live_app.app_context():
        seed_demo(days=21)
        db.session.commit()
    return "SUP"


@pytest.mark.parametrize("width", [1440, 1920])
def test_charts_fit_and_a_forecast_answers(live_server, new_page, demo_board, width):
    page = new_page(width, 900)
    log_in(page, live_server, "alice", DEMO_PASSWORD)
    page.goto(f"{live_server}/boards/SUP/metrics")

    for chart in CHARTS:
        figure = page.locator(f'svg[data-chart="{chart}"]')
        figure.scroll_into_view_if_needed()
        expect(figure).to_be_visible()
        box = figure.bounding_box()
        panel = page.locator(".chart-panel", has=figure).bounding_box()
        assert box["width"] > 200 and box["height"] > 100, chart
        assert panel["x"] <= box["x"], chart
        assert box["x"] + box["width"] <= panel["x"] + panel["width"], chart
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(page.locator(".value-stream .vs-step").first).to_be_visible()

    page.locator("input[name=question][value=when]").check()
    page.fill("input[name=when]", "15")
    page.fill("input[name=seed]", "7")
    page.fill("input[name=trials]", "2000")
    page.click("#forecast-form button[type=submit]")
    table = page.locator("#forecast-result .forecast-table")
    expect(table).to_be_visible()
    expect(page.locator("#forecast-result h3")).to_contain_text("When will 15 cards be done")
    expect(table.locator("tbody tr")).to_have_count(4)
    expect(table.locator("tbody tr").nth(2)).to_contain_text("85%")
    expect(page.locator('#forecast-result svg[data-chart="forecast"]')).to_be_visible()
    assert page.errors == []
