"""Starting a swarm from a card: the form with the card's skills, suggested experts (other teams
included) with why, similar past outcomes, inviting, and every refusal shown in the form."""

import pytest

from app.accounts.services import create_team, set_skill, user_by_username
from app.cards.moves import move_card
from app.cards.services import archive_card, update_card
from app.events.models import Event
from app.extensions import db
from app.swarms import services as swarms
from app.swarms.models import Swarm, SwarmInvitation
from app.web.swarming import swarm_link
from tests import factories as make

HX = {"HX-Request": "true", "HX-Target": "swarm-panel"}


@pytest.fixture
def desk(app):
    """SUP, team Desk (ann owns the board and card SUP-1, bob a member, vic a viewer); xena and
    carl are on another team; SUP-1 needs postfix and dns."""
    ann, bob, vic, xena, carl = (make.user(n) for n in ("ann", "bob", "vic", "xena", "carl"))
    board = make.board(ann, "simple", key="SUP", team=create_team("Desk", [ann, bob, vic]))
    make.member(board, bob)
    make.member(board, vic, "viewer")
    create_team("Mail", [xena, carl])
    set_skill(bob, "postfix", 4)
    set_skill(xena, "dns", 5)
    set_skill(carl, "dns", 3)
    set_skill(carl, "postfix", 3)
    card = make.card(board, ann, "Mail queue stuck on relay-2")
    update_card(card, ann, owner="ann", required_skills="postfix, dns")
    db.session.commit()
    return board, card


def form(**values):
    return {"type": "backlog", "help_needed": "Mails pile up in the relay queue",
            "tried": "Restarted postfix", "skills": "postfix, dns", **values}


def events(board):
    return db.session.query(Event).filter_by(board_id=board.id).count()


def test_the_card_offers_the_start_form_with_its_skills_and_ranked_experts(client, login, desk):
    _, card = desk
    login("bob")
    page = client.get(f"/cards/{card.key}").get_data(as_text=True)
    assert f'action="/cards/{card.key}/swarm"' in page
    assert 'value="postfix, dns"' in page
    # carl alone covers both skills: first; bob and xena after, each saying why.
    assert page.index('value="carl"') < page.index('value="xena"')
    assert "covers every skill needed" in page and "from another team" in page
    assert 'name="invite" value="ann"' not in page  # the owner is in the room anyway
    assert 'name="invite" value="bob"' not in page  # and so is whoever starts it


def test_suggestions_follow_the_skills_as_they_are_typed(client, login, desk):
    _, card = desk
    login("ann")
    answer = client.get(f"/cards/{card.key}/swarm/suggestions",
                        query_string={"skills": "dns", "invite": "carl"}, headers=HX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'id="swarm-suggestions"' in html
    assert html.index('value="xena"') < html.index('value="carl"')  # dns 5 before dns 3
    assert 'value="bob"' not in html
    assert 'value="carl" checked' in html  # a tick survives the refresh
    nothing = client.get(f"/cards/{card.key}/swarm/suggestions", query_string={"skills": ""})
    assert "Name the skills needed" in nothing.get_data(as_text=True)


def test_similar_past_outcomes_are_shown_with_the_form(client, login, desk):
    board, card = desk
    ann = user_by_username("ann")
    old = make.card(board, ann, "Relay queue growing")
    past = swarms.start_swarm(old, ann, type="backlog", help_needed="Relay queue grows",
                              skills="postfix")
    swarms.resolve_swarm(past, ann, continued_by="ann",
                         outcome="Flushed the deferred queue after fixing the relay's DNS")
    db.session.commit()
    login("bob")
    page = client.get(f"/cards/{card.key}").get_data(as_text=True)
    assert "Similar past outcomes" in page and "Flushed the deferred queue" in page


def test_starting_keeps_the_owner_and_invites_the_ticked_experts(app, client, login, desk):
    board, card = desk
    login("bob")
    answer = client.post(f"/cards/{card.key}/swarm", data=form(invite=["xena", "carl"],
                         **{"why-xena": "knows dns (5/5)"}), headers=HX)
    assert answer.status_code == 204
    swarm = db.session.query(Swarm).one()
    with app.test_request_context():
        assert answer.headers["HX-Redirect"] == swarm_link(swarm)
    assert (swarm.type, swarm.started_by.username, swarm.skills) == (
        "backlog", "bob", ["postfix", "dns"])
    assert card.owner.username == "ann"
    invited = {i.user.username: i for i in swarm.invitations}
    assert set(invited) == {"xena", "carl"} and invited["xena"].why == "knows dns (5/5)"
    page = client.get(f"/cards/{card.key}").get_data(as_text=True)
    assert "Swarm open: 1 person" in page and "go to room" in page
    assert "Invited, no answer yet: xena, carl" in page
    assert f'action="/cards/{card.key}/swarm"' not in page  # no second start form


def test_without_htmx_starting_redirects_to_the_swarm(app, client, login, desk):
    _, card = desk
    login("ann")
    answer = client.post(f"/cards/{card.key}/swarm", data=form())
    assert answer.status_code == 302
    with app.test_request_context():
        assert answer.headers["Location"] == swarm_link(db.session.query(Swarm).one())


@pytest.mark.parametrize(
    ("values", "sentence"),
    [
        ({"help_needed": "  "}, "The help needed cannot be empty."),
        ({"type": "tiered"}, "Swarm type"),
        ({"invite": "nobody-here"}, "nobody-here"),
        ({"skills": ", ".join(f"s{n}" for n in range(12))}, "At most 10"),
    ],
)
def test_a_bad_request_is_refused_in_the_form_and_writes_nothing(client, login, desk, values,
                                                                 sentence):
    board, card = desk
    before = events(board)
    login("bob")
    answer = client.post(f"/cards/{card.key}/swarm", data=form(**values), headers=HX)
    html = answer.get_data(as_text=True)
    assert answer.status_code in (404, 422)
    assert 'id="swarm-panel"' in html and 'class="form-error"' in html and sentence in html
    assert 'name="tried"' in html and "Restarted postfix" in html  # what was typed stays
    db.session.expire_all()
    assert db.session.query(Swarm).count() == 0 and events(board) == before


def test_a_card_already_swarmed_refuses_a_second_swarm(client, login, desk):
    board, card = desk
    swarms.start_swarm(card, user_by_username("ann"), type="andon", help_needed="Down")
    db.session.commit()
    before = events(board)
    login("bob")
    answer = client.post(f"/cards/{card.key}/swarm", data=form(), headers=HX)
    assert answer.status_code == 422
    assert "already has an open swarm" in answer.get_data(as_text=True)
    assert db.session.query(Swarm).count() == 1 and events(board) == before


def test_a_viewer_sees_no_form_and_is_refused_with_a_sentence(client, login, desk):
    _, card = desk
    login("vic")
    page = client.get(f"/cards/{card.key}").get_data(as_text=True)
    assert f'action="/cards/{card.key}/swarm"' not in page
    answer = client.post(f"/cards/{card.key}/swarm", data=form(), headers=HX)
    assert answer.status_code == 403
    assert "As a viewer of SUP you cannot change it." in answer.get_data(as_text=True)
    assert db.session.query(Swarm).count() == 0


def test_someone_not_on_the_board_is_told_there_is_no_such_card(client, login, desk):
    _, card = desk
    login("xena")
    answer = client.post(f"/cards/{card.key}/swarm", data=form(), headers=HX)
    assert answer.status_code == 404 and db.session.query(Swarm).count() == 0


def test_archived_and_finished_cards_are_not_swarmed(client, login, desk):
    board, card = desk
    ann = user_by_username("ann")
    finished = make.card(board, ann, "Done already")
    move_card(finished, ann, column=make.column(board, "Done"))
    archive_card(card, ann)
    db.session.commit()
    login("ann")
    for key, sentence in ((card.key, "is archived"), (finished.key, "is finished")):
        assert f'action="/cards/{key}/swarm"' not in client.get(f"/cards/{key}").get_data(
            as_text=True)
        answer = client.post(f"/cards/{key}/swarm", data=form(), headers=HX)
        assert answer.status_code == 422 and sentence in answer.get_data(as_text=True)
    assert db.session.query(Swarm).count() == 0


def test_without_htmx_a_refusal_is_the_card_page_with_the_sentence(client, login, desk):
    _, card = desk
    login("bob")
    answer = client.post(f"/cards/{card.key}/swarm", data=form(help_needed=""))
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "The help needed cannot be empty." in page and "<title>" in page


def test_more_experts_can_be_invited_once_the_swarm_runs(client, login, desk):
    _, card = desk
    login("ann")
    client.post(f"/cards/{card.key}/swarm", data=form(invite="carl"), headers=HX)
    page = client.get(f"/cards/{card.key}").get_data(as_text=True)
    assert 'name="invite" value="carl"' not in page  # already asked
    assert 'name="invite" value="xena"' in page
    answer = client.post(f"/cards/{card.key}/swarm/invite", data={"invite": "xena"}, headers=HX)
    assert answer.status_code == 200 and "xena" in answer.get_data(as_text=True)
    assert {i.user.username for i in db.session.query(SwarmInvitation)} == {"carl", "xena"}
    again = client.post(f"/cards/{card.key}/swarm/invite", data={"invite": "xena"}, headers=HX)
    assert again.status_code == 422 and "already been invited" in again.get_data(as_text=True)
    none = client.post(f"/cards/{card.key}/swarm/invite", data={}, headers=HX)
    assert none.status_code == 422 and "Tick someone" in none.get_data(as_text=True)
