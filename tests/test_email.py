"""Notifications by email, through a real SMTP server the tests start (aiosmtpd on 127.0.0.1):
immediately, in a daily digest or never, per kind; quiet hours; one-click unsubscribe; an SMTP
server that is down loses nothing."""

from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.cards.services import add_comment, update_card
from app.clock import utcnow
from app.config import smtp_settings
from app.extensions import db
from app.notifications.email import settings_of, update_mail_settings
from app.notifications.mailer import email_round
from app.notifications.models import Notification
from tests import factories as make

HX = {"HX-Request": "true"}


@pytest.fixture
def team(simple):
    board, ann, bob = simple
    update_mail_settings(bob, email="bob@example.com", choices={}, timezone="UTC",
                         quiet_from="", quiet_until="", digest_hour="8")
    db.session.commit()
    return board, ann, bob


def body(message, kind="plain") -> str:
    return message.get_body(preferencelist=(kind,)).get_content()


def today(hour: int, minute: int = 0) -> datetime:
    return utcnow().replace(hour=hour, minute=minute, second=0, microsecond=0)


def test_a_mention_is_emailed_at_once_with_links_and_an_unsubscribe_header(smtp, team):
    board, ann, bob = team
    card = make.card(board, ann, "Disk full on db-1")
    add_comment(card, ann, "@bob the volume is at 95%")
    db.session.commit()
    assert email_round("t") == 1
    [(to, message)] = smtp.messages
    assert to == ["bob@example.com"] and message["From"] == "Swarmboard <sb@example.com>"
    assert message["Subject"] == f"{card.key}: ann mentioned you in a comment: “@bob the " \
                                 "volume is at 95%”"
    assert f"https://sb.example/cards/{card.key}" in body(message)
    assert f'href="https://sb.example/cards/{card.key}"' in body(message, "html")
    assert message["List-Unsubscribe"].startswith("<https://sb.example/email/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email_round("t") == 0  # sent once


def test_changes_wait_for_the_daily_digest_at_the_persons_hour(smtp, team):
    board, ann, bob = team
    card = make.card(board, ann, "Printer jam", owner="bob")
    update_card(card, ann, title="Printer jam on floor 3")
    db.session.commit()
    assert email_round("t", now=today(7)) == 0  # the digest goes at 08:00
    assert email_round("t", now=today(8, 30)) == 1
    [(_, digest)] = smtp.messages
    assert digest["Subject"] == "Your Swarmboard digest: 2 notifications"
    assert "ann created it in To do" in body(digest) and "ann changed title" in body(digest)
    update_card(card, ann, title="Printer jam, floor 3")
    db.session.commit()
    assert email_round("t", now=today(9)) == 0  # one digest a day
    assert email_round("t", now=today(8, 30) + timedelta(days=1)) == 1


def test_quiet_hours_hold_email_until_they_end(smtp, team):
    board, ann, bob = team
    # Tokyo: UTC+9 all year (no summer time to move the hours under the test).
    update_mail_settings(bob, email="bob@example.com", choices={}, timezone="Asia/Tokyo",
                         quiet_from="22:00", quiet_until="07:00", digest_hour="8")
    card = make.card(board, ann, "Disk full")
    add_comment(card, ann, "@bob tonight please")
    db.session.commit()
    assert email_round("t", now=today(13)) == 0  # 22:00 in Tokyo
    assert email_round("t", now=today(21, 30)) == 0  # 06:30 in Tokyo
    assert email_round("t", now=today(22, 5)) == 1  # 07:05 in Tokyo


def test_what_someone_wants_never_is_not_emailed(smtp, team):
    board, ann, bob = team
    update_mail_settings(bob, email="bob@example.com", choices={"mention": "never"},
                         timezone="UTC", quiet_from="", quiet_until="", digest_hour="8")
    card = make.card(board, ann, "Disk full")
    add_comment(card, ann, "@bob look")
    db.session.commit()
    assert email_round("t") == 0 and smtp.messages == []
    assert db.session.scalar(select(Notification.emailed_at).where(
        Notification.kind == "mention")) is not None  # dealt with: never asked again


def test_nothing_is_sent_without_smtp_settings_or_without_an_address(smtp, team, app):
    board, ann, bob = team
    carol = make.user("carol")
    make.member(board, carol)
    card = make.card(board, ann, "Disk full")
    add_comment(card, ann, "@carol look")  # carol has no address
    db.session.commit()
    assert email_round("t") == 0
    add_comment(card, ann, "@bob look")
    db.session.commit()
    app.config["SMTP"] = None
    assert email_round("t") == 0 and smtp.messages == []


def test_one_click_unsubscribe_stops_that_kind_of_email(smtp, team, client):
    board, ann, bob = team
    card = make.card(board, ann, "Disk full")
    add_comment(card, ann, "@bob first")
    db.session.commit()
    email_round("t")
    [(_, message)] = smtp.messages
    path = message["List-Unsubscribe"].strip("<>").removeprefix("https://sb.example")
    page = client.get(path)
    assert page.status_code == 200 and "mentions of me" in page.get_data(as_text=True)
    answer = client.post(path, data="List-Unsubscribe=One-Click",
                         content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200 and "Unsubscribed" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert settings_of(bob).choice("mention") == "never"
    assert settings_of(bob).choice("invitation") == "immediately"
    add_comment(card, ann, "@bob second")
    db.session.commit()
    assert email_round("t") == 0
    assert client.get("/email/unsubscribe/forged-token").status_code == 404


def test_an_smtp_server_that_is_down_loses_nothing(smtp, team):
    board, ann, bob = team
    card = make.card(board, ann, "Disk full")
    add_comment(card, ann, "@bob look")
    db.session.commit()
    down = smtp.controllers[-1]
    down.stop()
    assert email_round("t") == 0
    assert db.session.scalar(select(Notification.emailed_at).where(
        Notification.kind == "mention")) is None  # given back for the next round
    back = Controller(smtp, hostname="127.0.0.1", port=down.port)
    back.start()
    smtp.controllers.append(back)
    assert email_round("t") == 1 and len(smtp.messages) == 1


def test_the_profile_saves_email_settings_and_refuses_bad_ones(team, login):
    board, ann, bob = team
    client = login("ann")
    fields = {"email": "ann@example.com", "email_mention": "digest", "email_change": "never",
              "timezone": "Europe/Paris", "quiet_from": "22:00", "quiet_until": "07:00",
              "digest_hour": "9"}
    answer = client.post("/profile/notifications", data=fields, headers=HX)
    assert answer.status_code == 200 and "Notification settings saved." in answer.get_data(True)
    db.session.expire_all()
    settings = settings_of(ann)
    assert (ann.email, settings.choice("mention"), settings.choice("change"),
            settings.choice("invitation")) == ("ann@example.com", "digest", "never",
                                               "immediately")
    for wrong, says in ((dict(email="not-an-address"), "is not an email address"),
                        (dict(email="BOB@example.com"), "belongs to someone else"),
                        (dict(quiet_until=""), "both a start and an end"),
                        (dict(quiet_from="25:00"), "a time like 22:00"),
                        (dict(timezone="Mars/Olympus"), "not a time zone"),
                        (dict(email_mention="sometimes"), "Email for mentions of me"),
                        (dict(digest_hour="24"), "from 0 to 23")):
        refused = client.post("/profile/notifications", data={**fields, **wrong}, headers=HX)
        assert refused.status_code == 422 and says in refused.get_data(True), wrong


@pytest.mark.parametrize(("env", "expected"), [
    ({}, None),
    ({"SMTP_URL": "smtp://mail.example:2525"},
     {"host": "mail.example", "port": 2525, "user": "", "password": "", "tls": "none"}),
    ({"SMTP_URL": "smtps://bot%40x:s%2Fcret@mail.example"},
     {"host": "mail.example", "port": 465, "user": "bot@x", "password": "s/cret", "tls": "ssl"}),
    ({"SMTP_URL": "smtp://mail.example?tls=starttls"},
     {"host": "mail.example", "port": 587, "user": "", "password": "", "tls": "starttls"}),
    ({"SMTP_HOST": "relay", "SMTP_USER": "u", "SMTP_PASSWORD": "p"},
     {"host": "relay", "port": 587, "user": "u", "password": "p", "tls": "starttls"}),
])
def test_smtp_settings_come_from_a_url_or_separate_variables(env, expected):
    assert smtp_settings(env) == expected


def test_a_wrong_smtp_setting_stops_the_server_with_a_sentence():
    with pytest.raises(ValueError, match="SMTP_URL must look like"):
        smtp_settings({"SMTP_URL": "http://mail.example"})
    with pytest.raises(ValueError, match="SMTP TLS must be one of"):
        smtp_settings({"SMTP_HOST": "relay", "SMTP_TLS": "maybe"})


def test_a_deactivated_person_is_emailed_nothing(smtp, team):
    board, ann, bob = team
    card = make.card(board, ann, "Printer on fire")
    add_comment(card, ann, "@bob can you look?")
    bob.deactivated_at = utcnow()
    db.session.commit()
    assert email_round("t") == 0
    assert smtp.messages == []
