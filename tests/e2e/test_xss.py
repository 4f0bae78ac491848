"""Stored XSS sweep: markup payloads in every text people type (board, column and lane names,
card title, description, comments, block and andon reasons, tags, swarm texts and messages,
stand-up notes, display names, a wall link's name, alert text, team names, review texts,
retrospective notes and group names, the names in an imported CSV history, an error budget's
objective and override reason), rendered in Chromium on every page where they appear (the
administration and invitation pages too) and in the live pushes: nothing is run, no element
gains a handler, and the payload reads as the text it was."""

import csv
import io

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.accounts.services import user_by_username
from app.boards.models import Board
from app.boards.services import add_column, add_lane, create_board, update_board
from app.cards.models import Card
from app.cards.services import add_comment, block_card, create_card
from app.extensions import db
from app.standups.services import add_note, start_standup
from app.swarms.andon import pull_andon
from app.swarms.services import add_task, invite, post_message, start_swarm
from app.wall.services import create_wall_link
from tests import factories as make
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload=window.__xss=1>',
    "'><iframe srcdoc='<script>parent.__xss=1</script>'>",
    "[click](javascript:window.__xss=1)",
    "{{7*7}}<b onmouseover=window.__xss=1>x</b>",
]
# Anything on the page that would run: a handler attribute, a script we did not write, a
# javascript: link, a frame; and the flag any payload would set.
INJECTED = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith('on')) found.push(el.tagName + ' ' + attr.name);
      const url = ['href', 'src', 'action', 'formaction'].includes(attr.name);
      if (url && attr.value.trim().toLowerCase().startsWith('javascript:')) {
        found.push(el.tagName + ' javascript: URL');
      }
    }
  }
  const foreign = 'script:not([src]), iframe, object, embed';
  document.querySelectorAll(foreign).forEach(el => found.push('<' + el.tagName + '>'));
  if (window.__xss) found.push('a payload ran');
  return found;
}"""


def said(index: int) -> str:
    return PAYLOADS[index % len(PAYLOADS)]


@pytest.fixture
def poisoned(live_app):
    """Board XSS, every text field of it filled with payloads; returns what the pages need."""
    with live_app.app_context():
        ann = make.user("ann", display_name=said(0)[:80])
        bob = make.user("bob", display_name=said(1)[:80])
        board = create_board(ann, name=said(2)[:120], key="XSS", template="simple")
        update_board(board, ann, description=said(3))
        make.member(board, bob)
        add_column(board, ann, name=said(4)[:60], kind="active")
        add_lane(board, ann, name=said(5)[:60])
        card = create_card(board, ann, title=said(0), description="\n\n".join(PAYLOADS),
                           tags=["<b>x</b>", "&lt;i&gt;"], owner="bob")
        other = create_card(board, ann, title=said(1))
        add_comment(card, bob, " ".join(PAYLOADS) + " @ann")
        block_card(other, ann, said(2))
        swarm = start_swarm(card, ann, type="backlog", help_needed=said(3), tried=said(4))
        invite(swarm, ann, "bob", why=said(5))
        post_message(swarm, ann, "\n\n".join(PAYLOADS))
        add_task(swarm, ann, said(1))
        third = create_card(board, ann, title=said(5))
        pull_andon(third, ann, said(0))
        standup = start_standup(board, ann)
        add_note(standup, ann, said(1), card_key=card.key)
        _, wall = create_wall_link(board, ann, name=said(2)[:80])
        db.session.commit()
        return {"card": card.key, "swarm": swarm.id, "wall": wall, "standup": standup.id}


def clean(page, path: str):
    found = page.evaluate(INJECTED)
    assert found == [], f"{path}: {found}"
    assert page.errors == [], f"{path}: {page.errors}"


def test_no_payload_runs_on_any_page(live_server, new_page, poisoned):
    page = new_page()
    log_in(page, live_server, "bob")
    for path in ("/", "/boards/XSS", f"/cards/{poisoned['card']}", f"/swarms/{poisoned['swarm']}",
                 "/boards/XSS/metrics", "/boards/XSS/dispatch", "/boards/XSS/drop-in",
                 "/boards/XSS/standups", "/boards/XSS/archived", "/inbox", "/swarms/search",
                 "/profile", "/people/ann"):
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        clean(page, path)
    page.goto(f"{live_server}/cards/{poisoned['card']}")
    # What was typed is shown as typed.
    expect(page.locator("h1").first).to_contain_text(said(0))
    wall = new_page()
    wall.goto(f"{live_server}/wall/{poisoned['wall']}")
    wall.wait_for_selector("#board .cell")
    clean(wall, "the wall")


def test_no_payload_runs_when_it_arrives_live(live_server, live_app, new_page, poisoned):
    board_page = new_page()
    log_in(board_page, live_server, "bob")
    board_page.goto(f"{live_server}/boards/XSS")
    expect(board_page.locator("#live-state")).to_have_text("Live")
    room = board_page.context.new_page()
    room.errors = []
    room.goto(f"{live_server}/swarms/{poisoned['swarm']}")
    with live_app.app_context():
        ann = user_by_username("ann")
        from app.boards.access import get_board
        from app.swarms.services import get_swarm

        board = get_board("XSS", ann)
        fresh = create_card(board, ann, title=said(3) + " live")
        block_card(fresh, ann, said(4))
        post_message(get_swarm(poisoned["swarm"], ann), ann, said(5) + " live")
        db.session.commit()
    expect(board_page.locator("#board")).to_contain_text(said(3) + " live")
    expect(room.locator("#room")).to_contain_text("live")
    clean(board_page, "the board after a push")
    clean(room, "the swarm room after a push")


def test_no_payload_runs_on_the_administration_and_invitation_pages(
        live_server, live_app, new_page, poisoned):
    from app.accounts import admin
    from app.boards.invites import invite as invite_to_board

    with live_app.app_context():
        ada = make.user("ada", display_name=said(4)[:80], is_admin=True)
        team = admin.add_team(ada, said(3)[:80])
        admin.add_team_member(ada, team, "bob")
        board = db.session.scalar(select(Board).where(Board.key == "XSS"))
        _, join_url = invite_to_board(board, board.members[0].user, role="member", uses=3)
        db.session.commit()
    page = new_page()
    log_in(page, live_server, "ada")
    for path in ("/admin/people", "/admin/people/ann", "/admin/teams", "/admin/tokens",
                 "/admin/wall-links", "/admin/audit", "/boards/XSS/settings"):
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        clean(page, path)
    expect(page.locator("#invitations")).to_contain_text("a shared link")
    stranger = new_page()
    path = "/join/" + join_url.rsplit("/", 1)[1]
    stranger.goto(live_server + path)
    clean(stranger, path)
    expect(stranger.locator("h1")).to_contain_text(said(2)[:120])


def test_no_payload_runs_from_an_imported_history(live_server, live_app, new_page, poisoned):
    """Names that arrive in a CSV file (stages become columns, lanes, items become cards, tags)
    are shown as text like any other."""
    from app.history.services import import_history

    rows = io.StringIO()
    out = csv.writer(rows)
    out.writerow(["ID", "Name", "Backlog", said(4)[:60], "Done", "Lane", "Tags"])
    for n, payload in enumerate(PAYLOADS, start=1):
        out.writerow([n, payload, "2026-11-01", "2026-11-02", "2026-11-05" if n % 2 else "",
                      said(n + 1)[:60], payload[:40]])
    with live_app.app_context():
        import_history(None, rows.getvalue(), user_by_username("ann"), board_key="IMP",
                       board_name=said(3)[:120])
        db.session.commit()
    page = new_page()
    log_in(page, live_server, "ann")
    for path in ("/boards/IMP", "/boards/IMP/metrics", "/boards/IMP/archived", "/"):
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        clean(page, path)
    expect(page.locator("body")).to_contain_text(said(3)[:40])


def test_no_payload_runs_in_a_post_incident_review(live_server, live_app, new_page, poisoned):
    from app.reviews.services import add_action, draft_review, update_review
    from app.swarms.andon import clear_andon

    with live_app.app_context():
        ann = user_by_username("ann")
        card = db.session.scalar(select(Card).where(Card.andon_at.is_not(None)))
        clear_andon(card, ann)
        review = draft_review(card, ann)
        update_review(review, ann, version=review.version, title=said(1)[:200],
                      summary=said(2), impact=said(3), contributing="\n\n".join(PAYLOADS),
                      learned=said(5))
        add_action(review, ann, title=said(0)[:200], owner="bob")
        make.member(review.board, make.user("vic"), "viewer")
        db.session.commit()
        review_id = review.id
    for who in ("bob", "vic"):  # the editing form, and the read-only write-up
        page = new_page()
        log_in(page, live_server, who)
        for path in (f"/reviews/{review_id}", "/boards/XSS/reviews"):
            page.goto(live_server + path)
            page.wait_for_load_state("networkidle")
            clean(page, f"{path} as {who}")


def test_no_payload_runs_from_an_error_budget(live_server, live_app, new_page, poisoned):
    """An objective's name on the board's strip, its page (with a feature started anyway, the
    reason a payload) and the wall."""
    from app.cards.moves import move_card
    from app.slos.services import check_budgets, define_objective

    with live_app.app_context():
        ann = user_by_username("ann")
        board = db.session.scalar(select(Board).where(Board.key == "XSS"))
        define_objective(board, ann, name=said(1)[:80], target="99.999", count_andon="1")
        db.session.commit()
        check_budgets()  # the andon pulled on XSS-3 spends it all
        feature = create_card(board, ann, title=said(2), type="feature")
        move_card(feature, ann, column=board.columns[1], override_reason=said(3))
        db.session.commit()
    page = new_page()
    log_in(page, live_server, "bob")
    for path in ("/boards/XSS", "/boards/XSS/slos", f"/wall/{poisoned['wall']}"):
        page.goto(live_server + path)
        if "wall" not in path:  # the wall's socket never lets the network idle
            page.wait_for_load_state("networkidle")
        clean(page, path)
    expect(page.locator("body")).to_contain_text(said(1)[:40])


def test_no_payload_runs_in_a_retrospective(live_server, live_app, new_page, poisoned):
    from app.retros import services as retros

    with live_app.app_context():
        ann, bob = user_by_username("ann"), user_by_username("bob")
        board = db.session.scalar(select(Board).where(Board.key == "XSS"))
        retro = retros.start_retro(board, ann)
        notes = [retros.add_note(retro, who, kind=kind, body=said(n)[:500])
                 for n, (who, kind) in enumerate([(ann, "well"), (bob, "improve"), (ann, "ideas"),
                                                  (bob, "well")])]
        retros.advance(retro, ann, to="group")
        retros.group_notes(retro, bob, note_id=notes[1].id, with_note_id=notes[0].id)
        retros.name_group(retro, bob, group_id=notes[0].group_id, name=said(3)[:120])
        db.session.commit()
        retro_id = retro.id
    page = new_page()
    log_in(page, live_server, "bob")
    page.goto(f"{live_server}/retrospectives/{retro_id}")  # the group phase: every note shows
    page.wait_for_load_state("networkidle")
    clean(page, "a retrospective being grouped")
    expect(page.locator("#retro")).to_contain_text(said(2)[:40])  # shown as typed
    with live_app.app_context():
        retro = retros.get_retro(retro_id, user_by_username("ann"))
        ann = user_by_username("ann")
        retros.advance(retro, ann, to="vote")
        retros.advance(retro, ann, to="act")
        retros.add_action(retro, ann, title=said(4)[:200], owner="bob")
        db.session.commit()
    for path in (f"/retrospectives/{retro_id}", "/boards/XSS/retrospectives",
                 "/boards/XSS/improvements"):
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        clean(page, path)
