"""People as helpers, through the pages: my skills, interests and availability on the profile,
and anyone's read-only profile."""

import pytest

from app.accounts.services import set_skill
from app.cards.moves import move_card
from app.extensions import db
from app.swarms.experts import interests_of, is_available, set_available
from tests import factories as make

HX = {"HX-Request": "true"}


@pytest.fixture
def crew(app):
    ann = make.user("ann", display_name="Ann Lee")
    bob = make.user("bob", display_name="Bob Ray")
    board = make.board(ann, "simple", key="SIM")
    make.member(board, bob)
    return board, ann, bob


def levels(user):
    db.session.refresh(user)
    return {s.skill: s.level for s in user.skills}


def test_i_add_a_skill_change_its_level_and_remove_it(client, login, crew):
    _, ann, _ = crew
    login("ann")
    added = client.post("/profile/skills", data={"skill": "Networking", "level": "4"}, headers=HX)
    assert added.status_code == 200
    html = added.get_data(as_text=True)
    assert 'id="helping"' in html and "networking" in html and "level 4 of 5" in html
    assert levels(ann) == {"networking": 4}
    client.post("/profile/skills", data={"skill": "networking", "level": "2"}, headers=HX)
    assert levels(ann) == {"networking": 2}
    removed = client.post("/profile/skills/remove", data={"skill": "networking"}, headers=HX)
    assert removed.status_code == 200
    assert levels(ann) == {}


@pytest.mark.parametrize("level", ["0", "6", "expert", ""])
def test_a_skill_level_outside_one_to_five_is_refused_with_a_sentence(client, login, crew, level):
    _, ann, _ = crew
    login("ann")
    response = client.post("/profile/skills", data={"skill": "dns", "level": level}, headers=HX)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#flash"
    assert "Skill level must be" in response.get_data(as_text=True)
    assert levels(ann) == {}


def test_an_empty_skill_name_is_refused_and_a_missing_skill_cannot_be_removed(client, login, crew):
    login("ann")
    empty = client.post("/profile/skills", data={"skill": "  ", "level": "3"}, headers=HX)
    assert empty.status_code == 422 and "Skill cannot be empty" in empty.get_data(as_text=True)
    missing = client.post("/profile/skills/remove", data={"skill": "cobol"}, headers=HX)
    assert missing.status_code == 422
    assert "You have no skill &#39;cobol&#39;" in missing.get_data(as_text=True)


def test_interests_are_added_and_removed(client, login, crew):
    _, ann, _ = crew
    login("ann")
    client.post("/profile/interests", data={"skill": "Kubernetes"}, headers=HX)
    client.post("/profile/interests", data={"skill": "dns"}, headers=HX)
    assert interests_of(ann) == ["dns", "kubernetes"]
    client.post("/profile/interests/remove", data={"skill": "dns"}, headers=HX)
    assert interests_of(ann) == ["kubernetes"]
    page = client.get("/profile").get_data(as_text=True)
    assert "kubernetes" in page


def test_i_say_i_am_available_with_a_note_and_then_that_i_am_busy(client, login, crew):
    _, ann, _ = crew
    login("ann")
    response = client.post(
        "/profile/availability", data={"available": "1", "note": "Free until 3 pm"}, headers=HX
    )
    html = response.get_data(as_text=True)
    assert "Available to help" in html and "Free until 3 pm" in html
    assert is_available(ann)
    client.post("/profile/availability", data={"available": "0"}, headers=HX)
    assert not is_available(ann)
    assert "I am available to help" in client.get("/profile").get_data(as_text=True)


def test_an_oversized_availability_note_is_refused(client, login, crew):
    _, ann, _ = crew
    login("ann")
    response = client.post("/profile/availability", data={"available": "1", "note": "x" * 121})
    assert response.status_code == 422
    assert "Note is too long" in response.get_data(as_text=True)
    assert not is_available(ann)


def test_without_htmx_a_change_redirects_back_to_the_profile(client, login, crew):
    login("ann")
    response = client.post("/profile/skills", data={"skill": "dns", "level": "5"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/profile#helping")


def test_my_profile_shows_my_load(client, login, crew):
    board, ann, _ = crew
    for n in range(2):
        card = make.card(board, ann, f"work {n}", owner="ann")
        move_card(card, ann, column=make.column(board, "Doing"))
    db.session.commit()
    login("ann")
    page = client.get("/profile").get_data(as_text=True)
    assert "Load: <strong>2</strong> cards I own in progress" in page


def test_anyone_logged_in_sees_another_persons_profile(client, login, crew):
    board, ann, bob = crew
    set_skill(bob, "linux", 5)
    set_available(bob, True, "On call today")
    db.session.commit()
    card = make.card(board, bob, "bob's", owner="bob")
    move_card(card, bob, column=make.column(board, "Doing"))
    db.session.commit()
    make.user("olga")  # not on any board of bob's
    login("olga")
    page = client.get("/people/bob").get_data(as_text=True)
    assert "Bob Ray" in page and "linux" in page and "5/5" in page
    assert "On call today" in page and "Available to help" in page
    assert "Load: <strong>1</strong> card in progress" in page
    assert "<form" not in page.split("<main", 1)[1]  # read-only


def test_an_unknown_person_is_not_found_and_anonymous_visitors_log_in(client, login, crew):
    assert client.get("/people/bob").status_code == 302
    login("ann")
    response = client.get("/people/nobody")
    assert response.status_code == 404
    assert "There is no user &#39;nobody&#39;" in response.get_data(as_text=True)
