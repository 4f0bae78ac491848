"""Who may change what, route by route: every write route of the app (HTML forms, the API, the
incoming hooks) and every Socket.IO event, tried by five callers of board SIM — logged out, an
outsider, a viewer, a member and an owner. A refusal has its status (302 to the login page or
401 logged out, 404 for outsiders, 403 below the role needed) and leaves every table as it was,
the event log included; whoever holds the role is not refused. The outsider also tries SIM's
objects through a board of their own, and the hooks tokens of other boards. None of the five is
a site admin: the administration pages refuse them all, and a site admin is let through them
(`test_a_site_admin_is_let_through_every_administration_route`). A write route or socket event
added without an entry in the tables below fails
`test_every_write_route_and_socket_event_has_an_entry`."""

import io
import json
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.accounts.models import ApiToken, User
from app.accounts.services import create_team, create_token
from app.boards.invites import invite as invite_to_board
from app.boards.services import add_column, add_lane
from app.cards.services import add_checklist_item, link_cards
from app.clock import utcnow
from app.extensions import db, socketio
from app.notifications.models import Notification
from app.notifications.services import notify
from app.retros.services import add_note, advance, group_notes, start_retro
from app.reviews.services import draft_review
from app.slos.services import define_objective
from app.standups.services import start_standup
from app.swarms.andon import clear_andon, create_hook, pull_andon, revoke_hook
from app.swarms.services import add_task, invite, join_swarm, post_message, start_swarm
from app.wall.services import create_wall_link
from app.webhooks.services import create_webhook
from tests import factories as make
from tests.swarm_room_data import Browser, as_user, forget_cached_person

CALLERS = ("logged-out", "outsider", "viewer", "member", "owner")
USERNAMES = {"outsider": "otto", "viewer": "vic", "member": "mel", "owner": "ann"}
RANK = {"viewer": 1, "member": 2, "owner": 3}


@dataclass(frozen=True)
class Write:
    """What a write route asks of its caller, and what to send it.

    needed: "viewer", "member" or "owner" of SIM (outsiders 404, lower roles 403);
    "personal" (anyone logged in, on their own things); "theirs" (another person's object:
    404 for everyone else); "hook" (an incoming webhook token, which no caller here sends:
    401); "signed" (a signed link, here a forged one: 404); "admin" (site admins only, which
    none of the five callers is: 403, the logged-out sent to log in); "public" (no one is
    refused).
    at: path parameter -> fixture object, where the parameter's name does not say which.
    refused: caller -> status, where a refusal answers otherwise than the rule above (for
    "public" and "signed" routes too: a forged link of another kind, a page that is off).
    counts: tables a refused call does write, by design (a failed login counts against the
    account and the address: login throttling).
    """

    needed: str
    form: dict | None = None
    json: dict | None = None
    at: dict = field(default_factory=dict)
    refused: dict = field(default_factory=dict)
    counts: tuple = ()


# Walked in this order by one caller at a time: whatever ends or removes an object comes after
# everything that uses it, so an owner's allowed change does not turn a later route into a 404.
ROUTES = {
    # --- personal: boards of one's own, the profile, the inbox ---------------------------------
    "POST /boards": Write("personal", form={"name": "Scratch", "key": "SCR"}),
    "POST /boards/import": Write("personal"),
    "POST /api/v1/boards": Write("personal", json={"name": "Scratch", "key": "SCR"}),
    "POST /profile/skills": Write("personal", form={"skill": "postfix", "level": "3"}),
    "POST /profile/skills/remove": Write("personal", form={"skill": "postfix"}),
    "POST /profile/interests": Write("personal", form={"skill": "dns"}),
    "POST /profile/interests/remove": Write("personal", form={"skill": "dns"}),
    "POST /profile/availability": Write("personal", form={"available": "1", "note": "on call"}),
    "POST /profile/notifications": Write("personal", form={"email": "me@example.com"}),
    "POST /profile/tokens": Write("personal", form={"name": "CLI"}),
    "POST /profile/tokens/<int:token_id>/revoke": Write("theirs"),
    "POST /inbox/read": Write("personal"),
    "POST /inbox/<int:notification_id>/read": Write("theirs"),
    "POST /api/v1/notifications/read": Write("personal"),
    "POST /api/v1/notifications/<int:notification_id>/read": Write("theirs", json={"read": True}),
    "POST /swarms/invitations/<int:invitation_id>/accept": Write("theirs"),
    "POST /swarms/invitations/<int:invitation_id>/decline": Write("theirs"),
    "POST /profile/about": Write("personal", form={"display_name": "Someone else"}),
    "POST /profile/avatar": Write("personal", form={"picture": lambda: (
        io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"picture"), "me.png")}),
    "POST /profile/avatar/remove": Write("personal"),
    # No SMTP server in the test app: asking again answers like the first time, "not sent".
    "POST /profile/email/confirm": Write("personal"),
    "POST /email/unsubscribe/<token>": Write("signed"),
    "POST /password/reset/<token>": Write("signed", form={"password": "battery-staple",
                                                          "again": "battery-staple"},
                                          refused=dict.fromkeys(CALLERS, 400)),
    "POST /join/<token>": Write("signed", form={"username": "newbie", "password": "new-horse-1",
                                                "again": "new-horse-1"},
                                refused=dict.fromkeys(CALLERS, 410)),
    # The test app sends no email, so the page is off for everyone (503) and writes nothing.
    # With SMTP set up, every request counts as a failure against the name and the address
    # (test_asking_for_a_reset_link_counts_against_the_name_and_writes_nothing_else).
    "POST /password/forgot": Write("public", form={"name": "vic"},
                                   refused=dict.fromkeys(CALLERS, 503)),
    # --- the incoming hooks (test_hooks_take_only_a_live_token_of_their_own_board) -----------
    "POST /hooks/andon/<key>": Write("hook", json={"card": "SIM-2", "reason": "Smoke failed"}),
    "POST /hooks/alerts/<key>": Write("hook", json={"version": "4", "alerts": []}),
    # --- board settings: owners --------------------------------------------------------------
    "POST /boards/<key>/settings": Write("owner", form={"name": "Simple board"}),
    "POST /boards/<key>/hooks": Write("owner", form={"name": "Nightly build"}),
    "POST /boards/<key>/columns": Write("owner", form={"name": "Review"}),
    "POST /boards/<key>/columns/<int:column_id>": Write("owner", form={"name": "Parked"}),
    "POST /boards/<key>/columns/<int:column_id>/move": Write("owner", form={"direction": "left"}),
    "POST /boards/<key>/lanes": Write("owner", form={"name": "Fixed date"}),
    "POST /boards/<key>/lanes/<int:lane_id>": Write("owner", form={"name": "Parked"}),
    "POST /boards/<key>/lanes/<int:lane_id>/move": Write("owner", form={"direction": "up"}),
    "POST /boards/<key>/members": Write("owner", form={"username": "gus", "role": "viewer"}),
    "POST /boards/<key>/teams": Write("owner", form={"team": "mail", "role": "viewer"}),
    "POST /boards/<key>/alert-intake": Write("owner", form={"andon": "always"}),
    "POST /boards/<key>/slos": Write("owner", form={"name": "Relay up", "target": "99.5",
                                                    "count_andon": "1"}),
    "POST /boards/<key>/slos/<int:objective_id>": Write("owner", form={
        "name": "Mail flows", "target": "99", "count_andon": "1"}),
    "POST /boards/<key>/import": Write("owner"),
    "POST /boards/<key>/invites": Write("owner", form={"role": "viewer", "days": "7",
                                                       "uses": "3"}),
    "POST /boards/<key>/invites/<int:invite_id>/withdraw": Write("owner"),
    "POST /boards/<key>/walls": Write("owner", form={"name": "Hall TV"}),
    "POST /boards/<key>/walls/<int:link_id>": Write("owner", form={"name": "Hall TV"},
                                                    at={"link_id": "wall_link_id"}),
    "POST /boards/<key>/webhooks": Write("owner", form={"name": "Chat",
                                                        "url": "http://127.0.0.1:9/chat"}),
    "POST /boards/<key>/webhooks/<int:webhook_id>": Write("owner", form={"name": "Chat ops"}),
    "POST /boards/<key>/webhooks/<int:webhook_id>/resume": Write("owner"),
    "POST /boards/<key>/webhooks/<int:webhook_id>/test": Write("owner"),
    "POST /api/v1/boards/<key>/columns": Write("owner", json={"name": "Review"}),
    "PATCH /api/v1/boards/<key>/columns/<int:column_id>": Write("owner", json={"name": "Parked"}),
    "POST /api/v1/boards/<key>/members": Write("owner", json={"username": "gus",
                                                              "role": "viewer"}),
    # --- cards: members; watching: viewers too ------------------------------------------------
    "POST /boards/<key>/cards": Write("member", form={"title": "Printer jammed"}),
    "POST /cards/<card_key>/edit": Write("member", form={"title": "Mail queue stuck"}),
    "POST /cards/<card_key>/block": Write("member", form={"reason": "Waiting on the vendor"}),
    "POST /cards/<card_key>/unblock": Write("member"),
    "POST /cards/<card_key>/checklist": Write("member", form={"text": "Restart the relay"}),
    "POST /cards/<card_key>/checklist/<int:item_id>": Write("member", form={"done": "1"}),
    "POST /cards/<card_key>/links": Write("member", form={"kind": "blocks", "other": "SIM-2"}),
    "POST /cards/<card_key>/comments": Write("member", form={"body": "Looking into it"}),
    "POST /cards/<card_key>/review": Write("member", at={"card_key": "incident"}),
    "POST /reviews/<int:review_id>": Write("member", form={
        "title": "Relay outage", "summary": "", "impact": "", "version": "1",
        "contributing": "No alert on the queue's length", "learned": "Alert on it"}),
    "POST /reviews/<int:review_id>/actions": Write("member", form={"title": "Queue alert"}),
    "POST /reviews/<int:review_id>/publish": Write("member"),
    "POST /cards/<card_key>/improvement": Write("member", at={"card_key": "improvement"},
                                                form={"metric": "throughput"}),
    # Retrospectives: mel facilitates SIM's, in its group phase; one runs at a time, so
    # starting another is refused (422) to members too, but as a rule, not for want of a role.
    "POST /boards/<key>/retrospectives/cadence": Write("owner", form={
        "every_weeks": "2", "weekday": "3", "starts_at": "10:00"}),
    "POST /boards/<key>/retrospectives": Write("member"),
    "POST /retrospectives/<int:retro_id>/notes": Write("member", form={"kind": "well",
                                                                        "body": "Pairing"}),
    "POST /retrospectives/<int:retro_id>/group": Write("member", form={
        "note": "{retro_note}", "with": "{retro_other_note}"}),
    "POST /retrospectives/<int:retro_id>/ungroup": Write("member", form={"note": "{retro_note}"}),
    "POST /retrospectives/<int:retro_id>/groups/<int:group_id>": Write(
        "member", at={"group_id": "retro_group_id"}, form={"name": "The relay"}),
    # Only the facilitator moves the phases: the owner is no exception.
    "POST /retrospectives/<int:retro_id>/phase": Write("member", form={"to": "vote"},
                                                       refused={"owner": 403}),
    "POST /retrospectives/<int:retro_id>/votes": Write("member", form={"note": "{retro_note}"}),
    "POST /retrospectives/<int:retro_id>/votes/remove": Write("member", form={
        "note": "{retro_note}"}),
    "POST /retrospectives/<int:retro_id>/actions": Write("member", form={"title": "Runbook"}),
    "POST /retrospectives/<int:retro_id>/facilitator": Write("member", form={"to": "ann"}),
    "POST /cards/<card_key>/move": Write("member", form={"column": "Doing"}),
    "POST /cards/<card_key>/swarm": Write("member", form={"type": "backlog",
                                                          "help_needed": "Mails pile up"}),
    "POST /cards/<card_key>/swarm/invite": Write("member", form={"invite": "gus"}),
    "POST /cards/<card_key>/andon": Write("member", form={"reason": "Customers affected"}),
    "POST /cards/<card_key>/andon/clear": Write("member"),
    "POST /cards/<card_key>/watch": Write("viewer", form={"watch": "1"}),
    "POST /boards/<key>/watch": Write("viewer", form={"watch": "1"}),
    "POST /boards/<key>/dispatch/<card_key>/take": Write("member", at={"card_key": "queued"}),
    "POST /boards/<key>/dispatch/<card_key>/route": Write("member", form={"column": "Doing"},
                                                          at={"card_key": "queued"}),
    "POST /api/v1/boards/<key>/cards": Write("member", json={"title": "Printer jammed"}),
    "PATCH /api/v1/cards/<card_key>": Write("member", json={"title": "Mail queue stuck"}),
    "POST /api/v1/cards/<card_key>/block": Write("member", json={"reason": "Vendor"}),
    "POST /api/v1/cards/<card_key>/unblock": Write("member", json={}),
    "POST /api/v1/cards/<card_key>/move": Write("member", json={"column": "Doing"}),
    "POST /api/v1/cards/<card_key>/watch": Write("viewer", json={"watch": True}),
    # --- the swarm room: people in it (ann started it, mel joined); steering: ann ------------
    "POST /boards/<key>/drop-in/swarms/<int:swarm_id>/join": Write("member"),
    "POST /swarms/<int:swarm_id>/join": Write("member"),
    "POST /swarms/<int:swarm_id>/messages": Write("member", form={"body": "Relay is back"}),
    "POST /swarms/<int:swarm_id>/messages/<int:message_id>/pin": Write("member",
                                                                        form={"pinned": "1"}),
    "POST /swarms/<int:swarm_id>/tasks": Write("member", form={"text": "Flush the queue"}),
    "POST /swarms/<int:swarm_id>/tasks/<int:task_id>": Write("member", form={"done": "1"}),
    "POST /swarms/<int:swarm_id>/invitations": Write("member", form={"username": "gus"}),
    # --- the stand-up: mel (a member) facilitates; owners may only end it --------------------
    "POST /boards/<key>/standup": Write("member"),
    "POST /boards/<key>/standup/update": Write("member", form={"today": "Fix relay-2"}),
    "POST /standups/<int:standup_id>/join": Write("viewer"),
    "POST /standups/<int:standup_id>/next": Write("member", refused={"owner": 403}),
    "POST /standups/<int:standup_id>/previous": Write("member", refused={"owner": 403}),
    "POST /standups/<int:standup_id>/focus": Write("member", form={"card": "SIM-1"},
                                                   refused={"owner": 403}),
    "POST /standups/<int:standup_id>/handover": Write("member", form={"username": "vic"},
                                                      refused={"owner": 403}),
    "POST /standups/<int:standup_id>/notes": Write("member", form={"body": "Restart at noon"}),
    "POST /standups/<int:standup_id>/impediment": Write("member", form={"title": "No VPN"}),
    # --- site administration: site admins only, none of the five callers ---------------------
    # (test_a_site_admin_is_let_through_every_administration_route walks these as an admin, in
    # this order, on gus, the mail team, gus's token and SIM's wall link.)
    "POST /admin/people": Write("admin", form={"username": "newbie", "display_name": "New Bie",
                                               "email": "newbie@example.com"}),
    "POST /admin/people/<username>": Write("admin", form={"display_name": "Gus of mail",
                                                          "email": "gus@example.com"},
                                           at={"username": "person"}),
    "POST /admin/people/<username>/deactivate": Write("admin", at={"username": "person"}),
    "POST /admin/people/<username>/reactivate": Write("admin", at={"username": "person"}),
    "POST /admin/people/<username>/admin": Write("admin", form={"admin": "1"},
                                                 at={"username": "person"}),
    "POST /admin/people/<username>/reset": Write("admin", at={"username": "person"}),
    "POST /admin/people/<username>/sessions": Write("admin", at={"username": "person"}),
    "POST /admin/teams": Write("admin", form={"name": "Network"}),
    "POST /admin/teams/<int:team_id>": Write("admin", form={"name": "Mail and DNS"}),
    "POST /admin/teams/<int:team_id>/members": Write("admin", form={"username": "vic"}),
    "POST /admin/teams/<int:team_id>/members/<username>/remove": Write(
        "admin", at={"username": "person"}),
    "POST /admin/teams/<int:team_id>/delete": Write("admin"),
    "POST /admin/tokens/<int:token_id>/revoke": Write("admin"),
    "POST /admin/wall-links/<int:link_id>/revoke": Write("admin", at={"link_id": "wall_link_id"}),
    # --- last: what ends or removes the objects used above ------------------------------------
    "POST /boards/<key>/columns/<int:column_id>/delete": Write("owner"),
    "POST /boards/<key>/lanes/<int:lane_id>/delete": Write("owner"),
    "POST /boards/<key>/hooks/<int:hook_id>/revoke": Write("owner"),
    "POST /boards/<key>/walls/<int:link_id>/revoke": Write("owner", at={"link_id": "wall_link_id"}),
    "POST /boards/<key>/webhooks/<int:webhook_id>/delete": Write("owner"),
    "POST /boards/<key>/slos/<int:objective_id>/remove": Write("owner"),
    "POST /boards/<key>/members/<username>/delete": Write("owner"),
    "POST /cards/<card_key>/checklist/<int:item_id>/delete": Write("member"),
    "POST /cards/<card_key>/links/<int:link_id>/delete": Write("member",
                                                               at={"link_id": "card_link_id"}),
    "POST /standups/<int:standup_id>/end": Write("member"),
    # A viewer never was in the room: leaving it is refused as "not in this swarm".
    "POST /swarms/<int:swarm_id>/leave": Write("member", refused={"viewer": 422}),
    "POST /swarms/<int:swarm_id>/resolve": Write("owner", form={"outcome": "Relay fixed",
                                                                 "continued_by": "mel"}),
    "POST /swarms/<int:swarm_id>/cancel": Write("owner", form={"reason": "Not needed"}),
    "POST /swarms/<int:swarm_id>/reopen": Write("owner"),
    "POST /cards/<card_key>/archive": Write("member", form={"swarm": "keep"}),
    "POST /cards/<card_key>/restore": Write("member"),
    # One's own sessions: this one goes on (the API token too), the others end.
    "POST /profile/password": Write("personal", form={"current": "correct-horse",
                                                      "password": "battery-staple",
                                                      "again": "battery-staple"}),
    "POST /profile/sessions/end": Write("personal"),
    "POST /login": Write("public", form={"username": "nobody", "password": "wrong-horse"},
                         counts=("login_failures",)),
    "POST /logout": Write("public"),
}

# Socket.IO events: "viewer" (outsiders refused), "logged-in" (connect), "anyone" (only leaves
# a room, or closes the socket), "nobody" (unknown events). Sockets never write.
SOCKET_EVENTS = {
    "connect": "logged-in",
    "join": "viewer",
    "catch_up": "viewer",
    "editing": "viewer",  # our pages announce an opened card detail, viewers' included
    "swarm_join": "viewer",
    "retro_join": "viewer",
    "leave": "anyone",
    "swarm_leave": "anyone",
    "retro_leave": "anyone",
    "disconnect": "anyone",
    "*": "nobody",
}


# --- the board and everything a route can name -------------------------------------------------


@pytest.fixture
def sim(app):
    """SIM (simple) owned by ann, mel a member, vic a viewer; otto owns OTH and nothing of SIM;
    gus, of the mail team, is invited into the swarm ann started on SIM-1 (mel joined it);
    SIM-2 waits in To do; mel facilitates a running stand-up; ann made an invitation link."""
    app.config["WEBHOOKS_ALLOW_PRIVATE"] = True  # the webhook points at a closed local port
    ann, mel, vic, otto, gus = (make.user(name) for name in ("ann", "mel", "vic", "otto", "gus"))
    board = make.board(ann, "simple", key="SIM")
    make.member(board, mel)
    make.member(board, vic, "viewer")
    other = make.board(otto, "simple", key="OTH")
    make.card(other, otto, "Rotate the OTH keys")
    team = create_team("mail", [gus])
    stuck = make.card(board, ann, "Mail queue stuck on relay-2")
    queued = make.card(board, ann, "Renew the TLS certificate")
    item = add_checklist_item(stuck, ann, "Read the relay's logs")
    card_link = link_cards(stuck, ann, "relates", queued.key)
    swarm = start_swarm(stuck, ann, type="backlog", help_needed="Mails pile up")
    join_swarm(swarm, mel)
    message = post_message(swarm, ann, "The relay refuses TLS 1.0")
    task = add_task(swarm, ann, "Flush the queue")
    invitation = invite(swarm, ann, "gus")
    standup = start_standup(board, mel)
    other_standup = start_standup(other, otto)
    spare_column = add_column(board, ann, name="Spare")
    spare_lane = add_lane(board, ann, name="Spare")
    hook, hook_token = create_hook(board, ann, "CI pipeline")
    revoked, revoked_token = create_hook(board, ann, "Old pipeline")
    revoke_hook(board, ann, revoked.id)
    _, other_hook_token = create_hook(other, otto, "OTH pipeline")
    webhook = create_webhook(board, ann, name="Chat", url="http://127.0.0.1:9/hook")
    wall_link, _ = create_wall_link(board, ann, "TV")
    _, other_wall_token = create_wall_link(other, otto, "OTH TV")
    board_invite, _ = invite_to_board(board, ann, role="member", uses=5)
    incident = make.card(board, ann, "Relay down")  # an incident without a review yet
    pull_andon(incident, ann, "no mail leaves")
    clear_andon(incident, ann)
    reviewed = make.card(board, ann, "DNS down")
    pull_andon(reviewed, ann, "nothing resolves")
    clear_andon(reviewed, ann)
    review = draft_review(reviewed, ann)
    improvement = make.card(board, ann, "Alert on the queue's length", type="improvement")
    objective = define_objective(board, ann, name="Mail flows", target="99.9", count_andon="1")
    retro = start_retro(board, mel)
    retro_notes = [add_note(retro, who, kind="well", body=text) for who, text in (
        (mel, "Pairing on the relay"), (ann, "The runbook helped"), (mel, "Quick rollback"))]
    advance(retro, mel, to="group")
    retro_group = group_notes(retro, ann, note_id=retro_notes[2].id,
                              with_note_id=retro_notes[1].id)
    notify([gus.id], kind="mention", text="ann mentioned you on SIM-1", url="/cards/SIM-1",
           board_id=board.id)
    tokens = {caller: create_token(user, "role matrix")
              for caller, user in (("outsider", otto), ("viewer", vic), ("member", mel),
                                   ("owner", ann))}
    create_token(gus, "gus's laptop")
    db.session.commit()
    return SimpleNamespace(
        board=board,
        owner=ann,
        swarm=swarm,
        tokens=tokens,
        hook_tokens={"SIM's": hook_token, "a revoked": revoked_token, "OTH's": other_hook_token,
                     "a forged": "sbh_forged"},
        other_wall_token=other_wall_token,
        targets={  # path parameter (or the name in Write.at) -> what it names
            "key": "SIM",
            "card_key": stuck.key,
            "queued": queued.key,
            "item_id": item.id,
            "card_link_id": card_link.id,
            "swarm_id": swarm.id,
            "message_id": message.id,
            "task_id": task.id,
            "standup_id": standup.id,
            "column_id": spare_column.id,
            "lane_id": spare_lane.id,
            "hook_id": hook.id,
            "webhook_id": webhook.id,
            "wall_link_id": wall_link.id,
            "username": "vic",
            "invite_id": board_invite.id,
            "incident": incident.key,
            "review_id": review.id,
            "improvement": improvement.key,
            "objective_id": objective.id,
            "retro_id": retro.id,
            "retro_note": retro_notes[0].id,
            "retro_other_note": retro_notes[1].id,
            "retro_group_id": retro_group.id,
            # the administration pages' objects:
            "person": "gus",
            "team_id": team.id,
            # gus's things, which no caller may touch:
            "invitation_id": invitation.id,
            "notification_id": db.session.scalar(
                select(Notification.id).where(Notification.user_id == gus.id)),
            "token_id": db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == gus.id)),
            "token": "forged-link-token",  # unsubscribing, a password reset, joining
            # SIM's objects named in another board's forms:
            "sim_board_id": board.id,
            "sim_column_id": board.columns[1].id,  # Doing
            "sim_lane_id": board.lanes[0].id,
        },
        other_targets={"key": "OTH", "card_key": "OTH-1", "oth_standup_id": other_standup.id,
                       "oth_lane_id": other.lanes[0].id, "oth_column_id": other.columns[0].id},
    )


def browser_of(app, caller: str):
    """One browser per test: logged in as the caller's user, or not at all."""
    if caller == "logged-out":
        return Browser(app, app.response_class, use_cookies=True)
    return as_user(app, USERNAMES[caller])


def stored() -> dict[str, list]:
    """Every row of every table, the event log and SIM's last_seq among them."""
    db.session.expire_all()
    return {
        table.name: db.session.execute(
            select(table).order_by(*table.primary_key.columns)).all()
        for table in db.metadata.sorted_tables
    }


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def address(rule: str, write: Write, targets: dict) -> str:
    def value(match):
        name = match.group(1)
        return str(targets[write.at.get(name, name)])

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", value, rule)


def refusal(write: Write, caller: str, api: bool) -> int | None:
    """The status `caller` must be refused with, or None when the caller may do it."""
    if caller in write.refused:
        return write.refused[caller]
    if write.needed == "public":
        return None
    if write.needed == "hook":
        return 401
    if write.needed == "signed":
        return 404
    if caller == "logged-out":
        return 401 if api else 302
    if write.needed == "personal":
        return None
    if write.needed == "theirs":
        return 404
    if write.needed == "admin":
        return 403
    if caller == "outsider":
        return 404
    return 403 if RANK[caller] < RANK[write.needed] else None


def to_login(response) -> bool:
    return response.status_code == 302 and urlsplit(response.location).path == "/login"


def filled(values: dict | None, targets: dict) -> dict:
    """A body with "{name}" placeholders filled in from the fixture's objects (a callable value
    is called: a file to upload, fresh for each request)."""
    return {name: value.format(**targets) if isinstance(value, str)
            else value() if callable(value) else value
            for name, value in (values or {}).items()}


def send(browser, method: str, url: str, write: Write, targets: dict, token: str | None,
         headers: dict | None = None):
    headers = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
    if write.json is not None or url.startswith(("/api/", "/hooks/")):
        return browser.open(url, method=method, headers=headers, content_type="application/json",
                            data=json.dumps(filled(write.json, targets)))
    return browser.open(url, method=method, headers=headers, data=filled(write.form, targets))


def answer_of(response) -> str:
    """The status and what the answer said, for a failure's message."""
    if response.is_json:
        body = response.get_json()
        said = body.get("message", "") if isinstance(body, dict) else ""
    elif response.status_code in (301, 302, 303):
        said = f"to {response.location}"
    else:
        page = response.get_data(as_text=True)
        found = re.search(r'<p class="lead">(.*?)</p>', page, re.S)
        said = found.group(1) if found else " ".join(re.sub(r"<[^>]+>", " ", page).split())
    return f"{response.status_code} {said.strip()[:160]!r}"


def write_rules(app) -> set[str]:
    return {
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"})
    }


# --- the matrix ------------------------------------------------------------------------------


def test_every_write_route_and_socket_event_has_an_entry(app):
    routes = write_rules(app)
    assert sorted(routes - ROUTES.keys()) == [], "write routes without a permission entry"
    assert sorted(ROUTES.keys() - routes) == [], "entries for routes that no longer exist"
    events = {event for handlers in socketio.server.handlers.values() for event in handlers}
    assert sorted(events ^ SOCKET_EVENTS.keys()) == [], "socket events without an entry"


@pytest.mark.parametrize("caller", CALLERS)
def test_every_write_route_refuses_callers_without_the_role_and_changes_nothing(app, sim, caller):
    browser = browser_of(app, caller)
    token = sim.tokens.get(caller)
    problems = []
    for route, write in ROUTES.items():
        method, rule = route.split(" ", 1)
        api = rule.startswith("/api/")
        refused_with = refusal(write, caller, api)
        url = address(rule, write, sim.targets)
        must_not_change = refused_with is not None or write.needed == "public"
        before = stored() if must_not_change else None
        response = send(browser, method, url, write, sim.targets, token if api else None)
        status = response.status_code
        if status >= 500 and status != refused_with:
            problems.append(f"{route} as {caller}: {answer_of(response)}")
        elif refused_with == 302 and not to_login(response):
            problems.append(f"{route} as {caller}: not sent to log in: {answer_of(response)}")
        elif refused_with is not None and status != refused_with:
            problems.append(f"{route} as {caller}: expected {refused_with}, got "
                            f"{answer_of(response)}")
        elif refused_with is None and write.needed != "public" and (
                status in (401, 403, 404) or to_login(response)):
            problems.append(f"{route} as {caller}: refused although allowed: "
                            f"{answer_of(response)}")
        changed = changed_tables(before, stored()) if must_not_change else []
        if changed := [table for table in changed if table not in write.counts]:
            problems.append(f"{route} as {caller} ({status}) changed {', '.join(changed)}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# --- site administration ----------------------------------------------------------------------


# What each administration route changes when a site admin sends it (and each writes the audit
# log besides): on gus, the mail team, gus's API token and SIM's wall link, in ROUTES' order.
ADMIN_CHANGES = {
    "POST /admin/people": "users",  # newbie, without a password: a link to choose one
    "POST /admin/people/<username>": "users",
    "POST /admin/people/<username>/deactivate": "users",
    "POST /admin/people/<username>/reactivate": "users",
    "POST /admin/people/<username>/admin": "users",
    "POST /admin/people/<username>/reset": "account_tokens",
    "POST /admin/people/<username>/sessions": "users",
    "POST /admin/teams": "teams",
    "POST /admin/teams/<int:team_id>": "teams",
    "POST /admin/teams/<int:team_id>/members": "team_members",
    "POST /admin/teams/<int:team_id>/members/<username>/remove": "team_members",
    "POST /admin/teams/<int:team_id>/delete": "teams",
    "POST /admin/tokens/<int:token_id>/revoke": "api_tokens",
    "POST /admin/wall-links/<int:link_id>/revoke": "wall_links",
}


def test_a_site_admin_is_let_through_every_administration_route(app, sim):
    assert list(ADMIN_CHANGES) == [r for r, w in ROUTES.items() if w.needed == "admin"]
    make.user("ada", is_admin=True)  # a site admin, and nothing on SIM
    browser = as_user(app, "ada")
    problems = []
    for route, table in ADMIN_CHANGES.items():
        write = ROUTES[route]
        method, rule = route.split(" ", 1)
        before = stored()
        response = send(browser, method, address(rule, write, sim.targets), write, sim.targets,
                        None)
        changed = changed_tables(before, stored())
        if response.status_code >= 400 or to_login(response):
            problems.append(f"{route} as a site admin: {answer_of(response)}")
        elif table not in changed or "audit_entries" not in changed:
            problems.append(f"{route} as a site admin ({answer_of(response)}) changed "
                            f"{', '.join(changed) or 'nothing'}; expected {table} and "
                            "audit_entries")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# --- asking for a password reset link, with email on --------------------------------------------


# Who is named, and what a request for them writes besides its throttling count (login_failures):
# only an active person with a confirmed address is sent a link (the SMTP server is a closed
# port here: the email fails, the link and the audit entry stay).
RESET_ASKED_FOR = {
    "nobody": set(),
    "vic": set(),  # no address
    "gus@example.com": {"account_tokens", "audit_entries"},
}


@pytest.mark.parametrize("caller", CALLERS)
def test_asking_for_a_reset_link_counts_against_the_name_and_writes_nothing_else(app, sim,
                                                                               caller):
    app.config["SMTP"] = {"host": "127.0.0.1", "port": 9, "tls": "none", "user": None,
                          "password": None}
    app.config["SMTP_TIMEOUT"] = 2
    gus = db.session.scalar(select(User).where(User.username == "gus"))
    gus.email, gus.email_verified_at = "gus@example.com", utcnow()
    db.session.commit()
    browser = browser_of(app, caller)
    problems = []
    for name, writes in RESET_ASKED_FOR.items():
        before = stored()
        response = browser.post("/password/forgot", data={"name": name})
        changed = set(changed_tables(before, stored()))
        if response.status_code != 200:
            problems.append(f"a reset link for {name} as {caller}: {answer_of(response)}")
        if changed != {"login_failures", *writes}:
            problems.append(f"a reset link for {name} as {caller} changed "
                            f"{', '.join(sorted(changed)) or 'nothing'}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# --- another board's addresses and forms naming SIM's objects ----------------------------------


# Forms of OTH (otto owns it) that name SIM's columns, lanes, cards or board; besides these, every
# route above whose address names a board or card and another object is tried with OTH's key or
# card and SIM's object.
SIM_OBJECTS_IN_OTHS_FORMS = {
    "POST /boards/<key>/cards": Write("owner", form={"title": "x", "column": "{sim_column_id}"}),
    "POST /boards/<key>/alert-intake": Write("owner", form={"andon": "always",
                                                            "resolved_column": "{sim_column_id}"}),
    "POST /boards/<key>/walls": Write("owner", form={  # a wall of OTH rotating through SIM
        "name": "TV", "lanes": "{oth_lane_id}", "columns": "{oth_column_id}",
        "rotate": "{sim_board_id}", "rotate_seconds": "60"}),
    "POST /cards/<card_key>/links": Write("owner", form={"kind": "blocks", "other": "SIM-2"}),
    "POST /cards/<card_key>/move": Write("owner", form={"column": "{sim_column_id}"}),
    "POST /api/v1/boards/<key>/cards": Write("owner", json={"title": "x",
                                                            "lane": "{sim_lane_id}"}),
    "POST /api/v1/cards/<card_key>/move": Write("owner", json={"column": "{sim_column_id}"}),
    "POST /standups/<int:standup_id>/focus": Write("owner", form={"card": "SIM-1"},
                                                   at={"standup_id": "oth_standup_id"}),
    "POST /standups/<int:standup_id>/notes": Write("owner", form={"body": "x", "card": "SIM-1"},
                                                   at={"standup_id": "oth_standup_id"}),
}


def crossings() -> dict[str, Write]:
    """Routes whose address names a board or card (OTH's, here) and another object (SIM's)."""
    found = {}
    for route, write in ROUTES.items():
        names = {write.at.get(name, name) for name in re.findall(r"<(?:[^:<>]+:)?([^<>]+)>",
                                                                  route)}
        if write.needed in RANK and names & {"key", "card_key"} and names - {"key", "card_key"}:
            found[route] = write
    return {**found, **SIM_OBJECTS_IN_OTHS_FORMS}


def test_an_owner_of_another_board_cannot_reach_sims_objects_through_it(app, sim):
    browser = browser_of(app, "outsider")
    targets = {**sim.targets, **sim.other_targets}
    problems = []
    for route, write in crossings().items():
        method, rule = route.split(" ", 1)
        before = stored()
        # As HTMX asks, so that a refused move answers its status rather than a redirect.
        response = send(browser, method, address(rule, write, targets), write, targets,
                        sim.tokens["outsider"] if rule.startswith("/api/") else None,
                        headers={"HX-Request": "true"})
        if response.status_code not in (404, 422):
            problems.append(f"{route} as otto through OTH: {answer_of(response)}")
        if changed := changed_tables(before, stored()):
            problems.append(f"{route} as otto through OTH ({response.status_code}) changed "
                            f"{', '.join(changed)}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# --- incoming hooks --------------------------------------------------------------------------


HOOK_BODIES = {
    "/hooks/andon/{key}": {"card": "SIM-2", "reason": "Smoke tests failed"},
    "/hooks/alerts/{key}": {
        "version": "4", "status": "firing", "receiver": "swarmboard", "groupLabels": {},
        "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
        "alerts": [{"status": "firing", "labels": {"alertname": "DiskFull", "severity": "page"},
                    "annotations": {"summary": "Disk full on db-1"},
                    "startsAt": "2026-01-05T08:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "fingerprint": "0123456789abcdef"}],
    },
}


# Whose token, on which board, and the refusal; the board's own live token comes last, as it
# changes the board.
HOOK_CALLS = [
    ("no", "SIM", 401),
    ("OTH's", "SIM", 403),
    ("a revoked", "SIM", 403),
    ("a forged", "SIM", 403),
    ("SIM's", "NOPE", 404),
    ("SIM's", "SIM", None),
]


@pytest.mark.parametrize("hook", HOOK_BODIES)
def test_hooks_take_only_a_live_token_of_their_own_board(client, sim, hook):
    problems = []
    for token, key, refused_with in HOOK_CALLS:
        secret = sim.hook_tokens.get(token)
        before = stored()
        response = client.post(
            hook.format(key=key), data=json.dumps(HOOK_BODIES[hook]),
            content_type="application/json",
            headers={"Authorization": f"Bearer {secret}"} if secret else {},
        )
        call = f"{hook.format(key=key)} with {token} token"
        if response.status_code != (refused_with or 201):
            problems.append(f"{call}: expected {refused_with or 201}, got {answer_of(response)}")
        if refused_with and (changed := changed_tables(before, stored())):
            problems.append(f"{call} changed {', '.join(changed)}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


# --- Socket.IO -------------------------------------------------------------------------------


SOCKET_CALLERS = (*CALLERS, "wall of OTH")


def socket_payloads(sim) -> dict[str, dict]:
    return {
        "join": {"board": "SIM"},
        "catch_up": {"board": "SIM", "since": 0},
        "editing": {"card": "SIM-1", "editing": True},
        "swarm_join": {"swarm": sim.swarm.id},
        "leave": {"board": "SIM"},
        "swarm_leave": {"swarm": sim.swarm.id},
        "retro_join": {"retro": sim.targets["retro_id"]},
        "retro_leave": {"retro": sim.targets["retro_id"]},
        "*": {"board": "SIM", "name": "Renamed"},
    }


def open_socket(app, sim, caller: str):
    forget_cached_person()
    if caller == "wall of OTH":
        return socketio.test_client(app, auth={"wall": sim.other_wall_token})
    return socketio.test_client(app, flask_test_client=browser_of(app, caller))


@pytest.mark.parametrize("caller", SOCKET_CALLERS)
def test_every_socket_event_refuses_who_may_not_see_the_board_and_changes_nothing(app, sim,
                                                                                  caller):
    socket = open_socket(app, sim, caller)
    if caller == "logged-out":
        assert not socket.is_connected(), "a socket without a login or a token was let in"
        return
    assert socket.is_connected()
    before = stored()
    problems = []
    for event, payload in socket_payloads(sim).items():
        ack = socket.emit("rename_board" if event == "*" else event, payload, callback=True)
        needed = SOCKET_EVENTS[event]
        may = needed == "anyone" or (needed == "viewer" and caller in RANK)
        if bool(ack and ack.get("ok")) != may:
            problems.append(f"{event} as {caller}: {'refused' if may else 'let in'}: {ack}")
    if changed := changed_tables(before, stored()):
        problems.append(f"socket events as {caller} changed {', '.join(changed)}")
    socket.get_received()
    make.card(sim.board, sim.owner, "Pushed to whoever joined")
    heard = [m["name"] for m in socket.get_received() if m["name"] != "error"]
    if caller in ("outsider", "wall of OTH") and heard:
        problems.append(f"{caller} heard SIM's news after being refused: {heard}")
    socket.disconnect()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
