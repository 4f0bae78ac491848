"""The inbox: who hears of what (invitations, mentions, andon pulls, changes to cards people own
or watch), written with the change itself, never to whoever made it."""

from sqlalchemy import select

from app.cards.moves import move_card
from app.cards.services import add_comment, block_card, update_card
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.services import (
    inbox,
    mark_all_read,
    mentioned,
    unread_count,
    watch,
)
from app.swarms import services as swarms
from app.swarms.andon import pull_andon
from tests import factories as make


def texts(user) -> list[str]:
    db.session.expire_all()
    return [n.text for n in reversed(inbox(user))]


def kinds(user) -> list[str]:
    return [n.kind for n in reversed(inbox(user))]


def test_mentions_are_found_as_people_write_them():
    assert mentioned("@bob can you look? cc @Ann, @ann and me@mail.example @carol.") == [
        "bob", "ann", "carol"]
    assert mentioned("no one here, not even email@host.org or @") == []


def test_the_owner_hears_of_changes_to_their_card_but_not_of_their_own(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Printer on floor 3", owner="bob")
    move_card(card, ann, column=make.column(board, "Doing"))
    db.session.commit()
    block_card(card, bob, "Waiting for toner")  # bob's own change: nothing for bob
    db.session.commit()
    assert texts(bob) == ["ann created it in To do", "ann moved it To do → Doing"]
    assert kinds(bob) == ["change", "change"]
    assert texts(ann) == []  # ann owns nothing and watches nothing


def test_a_rolled_back_change_leaves_no_notification(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Printer on floor 3", owner="bob")
    before = len(texts(bob))
    move_card(card, ann, column=make.column(board, "Doing"))
    db.session.rollback()
    assert len(texts(bob)) == before


def test_watchers_of_a_card_a_column_or_the_board_hear_of_it(simple):
    board, ann, bob = simple
    carol, dan, erin = make.user("carol"), make.user("dan"), make.user("erin")
    for person in (carol, dan, erin):
        make.member(board, person)
    card = make.card(board, ann, "VPN drops")
    watch(carol, board, card=card)
    watch(dan, board, column=make.column(board, "Done"))
    watch(erin, board)
    db.session.commit()
    update_card(card, ann, title="VPN drops every hour")
    db.session.commit()
    assert [len(texts(p)) for p in (carol, dan, erin)] == [1, 0, 1]
    move_card(card, ann, column=make.column(board, "Done"))
    db.session.commit()
    assert [len(texts(p)) for p in (carol, dan, erin)] == [2, 1, 2]
    assert texts(dan) == [texts(carol)[-1]]


def test_a_mention_tells_the_person_named_and_counts_as_unread(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Disk full on db-1")
    add_comment(card, ann, "@bob could you take a look at the **volume**? thanks")
    db.session.commit()
    [note] = inbox(bob)
    assert note.kind == "mention" and note.url == f"/cards/{card.key}"
    assert note.text.startswith("ann mentioned you in a comment: “@bob could you take a look")
    assert unread_count(bob) == 1
    assert mark_all_read(bob) == 1 and unread_count(bob) == 0


def test_someone_not_on_the_board_is_not_told_even_when_mentioned(simple):
    board, ann, _ = simple
    outsider = make.user("olga")
    card = make.card(board, ann, "Disk full on db-1")
    add_comment(card, ann, "@olga knows this one")
    db.session.commit()
    assert texts(outsider) == []


def test_andon_pulls_reach_every_member_of_the_board(simple):
    board, ann, bob = simple
    carol = make.user("carol")
    make.member(board, carol, role="viewer")
    card = make.card(board, bob, "Checkout down")
    pull_andon(card, bob, "Payments failing for everyone")
    db.session.commit()
    assert kinds(ann) == ["andon"] and kinds(carol) == ["andon"] and kinds(bob) == []
    assert texts(ann) == ["bob pulled the andon cord: Payments failing for everyone"]


def test_an_invitation_is_one_notification_with_the_invitation_to_answer(simple):
    board, ann, bob = simple
    card = make.card(board, ann, "Certificate expired", owner="bob")
    swarm = swarms.start_swarm(card, ann, type="backlog", help_needed="Renew it today")
    invitation = swarms.invite(swarm, ann, "bob")
    db.session.commit()
    notes = db.session.scalars(select(Notification).where(
        Notification.user_id == bob.id, Notification.kind == "invitation")).all()
    assert len(notes) == 1 and notes[0].invitation_id == invitation.id
    assert notes[0].text == "ann invited you to the swarm: Renew it today"


# --- the pages ---------------------------------------------------------------------------------

HX = {"HX-Request": "true"}


def page(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_the_bell_counts_unread_and_the_inbox_lists_newest_first(simple, login):
    board, ann, bob = simple
    card = make.card(board, ann, "Disk full on db-1", owner="bob")
    add_comment(card, ann, "@bob the volume is at 95%")
    db.session.commit()
    client = login("bob")
    home = page(client.get("/"))
    assert 'aria-label="Inbox, 2 unread"' in home
    inbox_page = page(client.get("/inbox"))
    mention = inbox_page.index("ann mentioned you in a comment: “@bob the volume is at 95%”")
    created = inbox_page.index("ann created it in To do")
    assert mention < created  # newest first
    assert inbox_page.count('class="inbox-item kind-') == 2
    assert inbox_page.count("inbox-item kind-mention unread") == 1
    assert inbox_page.count("inbox-item kind-change unread") == 1


def test_marking_read_one_by_one_or_all_at_once(simple, login):
    board, ann, bob = simple
    card = make.card(board, ann, "Disk full", owner="bob")
    add_comment(card, ann, "@bob look")
    db.session.commit()
    client = login("bob")
    first, second = inbox(bob)
    answer = client.post(f"/inbox/{first.id}/read", data={"read": "1"}, headers=HX)
    assert answer.status_code == 200
    assert "Mark unread" in page(answer) and 'aria-label="Inbox, 1 unread"' in page(answer)
    again = client.post(f"/inbox/{first.id}/read", data={"read": "0"}, headers=HX)
    assert 'aria-label="Inbox, 2 unread"' in page(again)
    assert client.post("/inbox/read", headers=HX).status_code == 204
    assert unread_count(bob) == 0
    assert "Nothing unread." in page(client.get("/inbox?unread=1"))


def test_opening_a_notification_reads_it_and_goes_where_it_points(simple, login):
    board, ann, bob = simple
    card = make.card(board, ann, "Disk full", owner="bob")
    [note] = inbox(bob)
    client = login("bob")
    response = client.get(f"/inbox/{note.id}/open")
    assert response.status_code == 302 and response.location == f"/cards/{card.key}"
    assert unread_count(bob) == 0


def test_nobody_reads_or_marks_another_persons_notifications(simple, login):
    board, ann, bob = simple
    make.card(board, ann, "Disk full", owner="bob")
    [note] = inbox(bob)
    client = login("ann")
    assert client.get(f"/inbox/{note.id}/open").status_code == 404
    assert client.post(f"/inbox/{note.id}/read", headers=HX).status_code == 404
    assert unread_count(bob) == 1


def test_watching_from_the_card_page_and_the_board_menu(simple, login):
    board, ann, bob = simple
    card = make.card(board, ann, "VPN drops")
    client = login("bob")
    shown = page(client.get(f"/cards/{card.key}"))
    assert 'id="watch-card"' in shown and 'aria-pressed="false"' in shown
    answer = client.post(f"/cards/{card.key}/watch", data={"watch": "1"}, headers=HX)
    assert 'aria-pressed="true"' in page(answer)
    done = make.column(board, "Done")
    menu = client.post("/boards/SIM/watch", data={"column": str(done.id), "watch": "1"},
                       headers=HX)
    assert "Watching 1 column" in page(menu)
    update_card(card, ann, title="VPN drops hourly")
    db.session.commit()
    assert kinds(bob) == ["change"]
    client.post(f"/cards/{card.key}/watch", data={"watch": "0"}, headers=HX)
    update_card(card, ann, title="VPN drops every hour")
    db.session.commit()
    assert kinds(bob) == ["change"]  # no longer watching the card; To do is not watched
    assert client.post("/boards/SIM/watch", data={"column": "Nowhere"},
                       headers=HX).status_code == 404


def test_mention_suggestions_list_board_members_by_the_start_of_a_name(simple, login):
    board, ann, bob = simple
    make.member(board, make.user("bobby", display_name="Roberta Smith"))
    make.user("bobcat")  # not on the board
    client = login("ann")
    names = [p["username"] for p in client.get("/boards/SIM/people?q=bo").get_json()["people"]]
    assert sorted(names) == ["bob", "bobby"]
    by_name = client.get("/boards/SIM/people?q=rob").get_json()["people"]
    assert by_name == [{"username": "bobby", "name": "Roberta Smith", "initials": "RS"}]
    outsider = login("bobcat")
    assert outsider.get("/boards/SIM/people?q=b").status_code == 404


def test_answering_an_invitation_from_the_inbox_reads_its_notification(simple, login):
    board, ann, bob = simple
    card = make.card(board, ann, "Certificate expired")
    swarm = swarms.start_swarm(card, ann, type="backlog", help_needed="Renew it today")
    invitation = swarms.invite(swarm, ann, "bob")
    db.session.commit()
    client = login("bob")
    listed = page(client.get("/inbox"))
    assert f'hx-post="/swarms/invitations/{invitation.id}/accept"' in listed
    client.post(f"/swarms/invitations/{invitation.id}/accept", headers=HX)
    db.session.expire_all()
    [note] = [n for n in inbox(bob) if n.kind == "invitation"]
    assert note.read_at is not None
    assert f"/swarms/invitations/{invitation.id}/accept" not in page(client.get("/inbox"))


def test_the_api_lists_marks_and_watches_for_a_token(simple, client):
    from app.accounts.services import create_token

    board, ann, bob = simple
    card = make.card(board, ann, "Disk full", owner="bob")
    add_comment(card, ann, "@bob look")
    token = create_token(bob, "bot")
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/notifications", headers=auth).get_json()
    assert listed["unread"] == 2
    assert [(n["kind"], n["card"]) for n in listed["notifications"]] == [
        ("mention", card.key), ("change", card.key)]
    first = listed["notifications"][0]["id"]
    read = client.post(f"/api/v1/notifications/{first}/read", json={"read": True}, headers=auth)
    assert read.status_code == 200 and read.get_json()["read_at"] is not None
    only_unread = client.get("/api/v1/notifications?unread=true", headers=auth).get_json()
    assert only_unread["unread"] == 1 and len(only_unread["notifications"]) == 1
    assert client.post("/api/v1/notifications/read", headers=auth).get_json() == {
        "marked": 1, "unread": 0}
    assert client.post("/api/v1/notifications/999999/read", json={},
                       headers=auth).status_code == 404
    assert client.get("/api/v1/notifications?limit=0", headers=auth).status_code == 422
    watched = client.post(f"/api/v1/cards/{card.key}/watch", json={"watch": True}, headers=auth)
    assert watched.get_json() == {"card": card.key, "watching": True}
    assert client.post(f"/api/v1/cards/{card.key}/watch", json={"watch": "maybe"},
                       headers=auth).status_code == 422
