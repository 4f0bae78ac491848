"""The inbox page, its bell, and watching cards, columns and boards. Thin over
app.notifications."""

from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.accounts.recovery import send_confirmation
from app.boards.access import get_board
from app.boards.services import active_columns, find_column, members_of
from app.cards.services import get_card
from app.database import row_id
from app.extensions import csrf, db, htmx
from app.mail import mail_on
from app.notifications import email, services
from app.notifications.models import EMAIL_CHOICES, KINDS
from app.notifications.tell import ring
from app.swarms.services import pending_invitations
from app.web import go_to

bp = Blueprint("inbox", __name__)
MENTION_SUGGESTIONS = 8


@bp.app_template_global("inbox_unread")
def inbox_unread() -> int:
    """For the header's bell (base.html)."""
    return services.unread_count(current_user) if current_user.is_authenticated else 0


@bp.app_template_global("watching_card")
def watching_card(card) -> bool:
    """Whether the person watches the card by name (card page)."""
    if not current_user.is_authenticated:
        return False
    return card.id in services.watched_on(current_user, card.board)["cards"]


@bp.app_template_global("watched_on_board")
def watched_on_board(board) -> dict:
    """What the person watches on the board, and the columns there are (its Watch menu)."""
    return {**services.watched_on(current_user, board), "choices": active_columns(board)}


def _bell() -> str:
    """The bell, out of band, for this page; the person's other pages hear of it by socket."""
    unread = services.unread_count(current_user)
    ring({current_user.id: unread})
    return render_template("inbox/_bell.html", unread=unread, oob=True)


@bp.get("/inbox")
@login_required
def index():
    unread_only = request.args.get("unread") == "1"
    before = request.args.get("before", "")
    page = services.inbox(current_user, unread_only=unread_only,
                          before=row_id(before),
                          limit=services.INBOX_PAGE + 1)
    pending = {invitation.id: invitation for invitation in pending_invitations(current_user)}
    return render_template("inbox/index.html", notifications=page[:services.INBOX_PAGE],
                           older=len(page) > services.INBOX_PAGE, unread_only=unread_only,
                           unread=services.unread_count(current_user), pending=pending)


@bp.post("/inbox/<int:notification_id>/read")
@login_required
def mark(notification_id: int):
    notification = services.mark_read(current_user, notification_id,
                                      read=request.form.get("read", "1") != "0")
    db.session.commit()
    if not htmx:
        return redirect(url_for("inbox.index"))
    pending = {invitation.id: invitation for invitation in pending_invitations(current_user)}
    return render_template("inbox/_item.html", notification=notification,
                           pending=pending) + _bell()


@bp.post("/inbox/read")
@login_required
def mark_all():
    services.mark_all_read(current_user)
    db.session.commit()
    ring({current_user.id: 0})
    return go_to(url_for("inbox.index"))


@bp.get("/inbox/<int:notification_id>/open")
@login_required
def open(notification_id: int):  # noqa: A001  (the route's name in url_for)
    """Follow a notification to what it is about; it counts as read."""
    notification = services.mark_read(current_user, notification_id)
    db.session.commit()
    ring({current_user.id: services.unread_count(current_user)})
    return redirect(notification.url)


# --- watching --------------------------------------------------------------------------------


def _watching(board, user, watched: bool, **target) -> None:
    if watched:
        services.watch(user, board, **target)
    else:
        services.unwatch(user, board, **target)
    db.session.commit()


@bp.post("/cards/<card_key>/watch")
@login_required
def watch_card(card_key: str):
    card = get_card(card_key, current_user)
    watched = request.form.get("watch", "1") != "0"
    _watching(card.board, current_user, watched, card=card)
    if htmx:
        return render_template("inbox/_watch_card.html", card=card, watching=watched)
    return redirect(url_for("cards.show", card_key=card.key))


@bp.post("/boards/<key>/watch")
@login_required
def watch_board(key: str):
    """Watch (watch=1) or stop watching (watch=0) the board, or one column of it (column)."""
    board = get_board(key, current_user)
    column = request.form.get("column")
    target = {"column": find_column(board, column)} if column else {}
    _watching(board, current_user, request.form.get("watch", "1") != "0", **target)
    if htmx:
        return render_template("inbox/_watch_board.html", board=board, open=True,
                               watched=watched_on_board(board))
    return redirect(url_for("boards.show", key=board.key))


@bp.get("/boards/<key>/people")
@login_required
def mentionable(key: str):
    """Board members whose username or name starts with `q`: the @mention suggestions."""
    board = get_board(key, current_user)
    typed = request.args.get("q", "").strip().lower()[:40]
    found = []
    for member in members_of(board):
        person = member.user
        names = [person.username.lower(), *person.display_name.lower().split()]
        if not typed or any(name.startswith(typed) for name in names):
            found.append({"username": person.username, "name": person.display_name,
                          "initials": person.initials})
    return {"people": found[:MENTION_SUGGESTIONS]}


# --- email settings and unsubscribing ----------------------------------------------------------


@bp.app_template_global("mail_settings_view")
def mail_settings_view() -> dict:
    """For the profile's Notifications section."""
    return dict(settings=email.settings_of(current_user), mail_on=mail_on(), kinds=KINDS,
                choices=EMAIL_CHOICES, timezones=sorted(available_timezones()))


@bp.post("/profile/notifications")
@login_required
def save_mail_settings():
    email.update_mail_settings(
        current_user, email=request.form.get("email"),
        choices={kind: request.form.get(f"email_{kind}") for kind in KINDS},
        timezone=request.form.get("timezone"), quiet_from=request.form.get("quiet_from"),
        quiet_until=request.form.get("quiet_until"),
        digest_hour=request.form.get("digest_hour", "8"))
    db.session.commit()
    message = "Notification settings saved."
    if current_user.email and current_user.email_verified_at is None and mail_on():
        sent = send_confirmation(current_user)
        message += (f" We sent a link to {current_user.email}: open it to confirm the address."
                    if sent else " The confirmation email could not be sent; try again later.")
    if not htmx:
        flash(message, "success")
        return redirect(url_for("accounts.profile") + "#notifications")
    return (render_template("inbox/_mail_settings.html", mail=mail_settings_view())
            + render_template("_flash_oob.html", message=message, level="success"))


@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """The link in every email: a page with one button; mail programs POST to it directly
    (List-Unsubscribe-Post, RFC 8058). No login: the signed token says who and what."""
    user, kind = email.read_unsubscribe_token(token)
    what = "any Swarmboard notifications" if kind == email.EVERY_KIND else KINDS[kind].lower()
    if request.method == "POST":
        email.unsubscribe(user, kind)
        db.session.commit()
        return render_template("inbox/unsubscribed.html", what=what, done=True, token=token)
    return render_template("inbox/unsubscribed.html", what=what, done=False, token=token,
                           user=user)


csrf.exempt(unsubscribe)
