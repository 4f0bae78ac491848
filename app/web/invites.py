"""Board invitations: owners make them on the settings page; the invitee opens /join/<token>
and joins with their account (logged in, or after logging in or single sign-on), or makes one
there. Thin: app.boards.invites decides."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user

from app.accounts.audit import audit
from app.accounts.services import create_user
from app.boards import invites
from app.boards.access import get_board
from app.clock import utcnow
from app.errors import DomainError, Invalid
from app.extensions import db
from app.web.boards import settings_done
from app.web.signin import INVITE_KEY

bp = Blueprint("invites", __name__)


@bp.post("/boards/<key>/invites")
@login_required
def create(key: str):
    board = get_board(key, current_user, "owner")
    form = request.form
    record, url = invites.invite(board, current_user, role=form.get("role", ""),
                                 email=form.get("email", ""), days=form.get("days") or 7,
                                 uses=form.get("uses") or 1)
    db.session.commit()
    mailed = invites.mail_invite(record, url) if record.email else False
    message = (f"Invitation sent to {record.email}." if mailed else
               f"The email to {record.email} could not be sent; give them the link yourself."
               if record.email else "Invitation link made; copy it now.")
    return settings_done(board, message, new_invite=(record, url, mailed),
                         level="success" if mailed or not record.email else "error")


@bp.post("/boards/<key>/invites/<int:invite_id>/withdraw")
@login_required
def withdraw(key: str, invite_id: int):
    board = get_board(key, current_user, "owner")
    record = invites.withdraw(board, current_user, invite_id)
    return settings_done(board, f"Invitation {'for ' + record.email if record.email else 'link'}"
                                " withdrawn.")


@bp.get("/join/<token>")
def join(token: str):
    record = invites.invite_for(token)
    return render_template("accounts/join.html", invite=record, token=token)


@bp.post("/join/<token>")
def accept(token: str):
    """Logged in: join. Otherwise "I have an account" (log in, then join) or a new account."""
    record = invites.invite_for(token)
    if current_user.is_authenticated:
        return _joined(token, current_user._get_current_object())
    if request.form.get("have_account"):
        session[INVITE_KEY] = token
        return redirect(url_for("accounts.login"))
    try:
        user = _new_account(record, request.form)
    except Invalid as error:
        db.session.rollback()
        flash(error.message, "error")
        return render_template("accounts/join.html", invite=record, token=token), 422
    return _joined(token, user, new=True)


def _new_account(record, form):
    """Someone new: their name and password; an email invitation's address is theirs."""
    if form.get("password", "") != form.get("again", ""):
        raise Invalid("The two passwords differ; type the same one twice.")
    user = create_user(form.get("username", ""), form.get("password", ""),
                       display_name=form.get("display_name") or None)
    if record.email:
        user.email = record.email
        user.email_verified_at = utcnow()
    audit(user, "person.invited", user.username, board=record.board.key)
    return user


def _joined(token: str, user, *, new: bool = False):
    try:
        record, changed = invites.accept(token, user)
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    if new:
        login_user(user)
    board = record.board
    flash(f"Welcome to {board.name}: you are a {record.role} here." if changed else
          f"You were already on {board.name}; nothing changed.", "success")
    return redirect(url_for("boards.show", key=board.key))
