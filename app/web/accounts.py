"""Log in and out, the personal home page ("My work"), the profile (skills, interests, being
available to help, API tokens) and other people's profiles."""


from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts import throttle
from app.accounts.admin import end_sessions
from app.accounts.avatars import MAX_BYTES, avatar_for_key, avatar_key, remove_avatar, set_avatar
from app.accounts.ldap import LdapUnavailable, ldap_login
from app.accounts.models import User
from app.accounts.recovery import (
    LinkRefused,
    change_password,
    check_link,
    confirm_email,
    reset_password,
    send_confirmation,
    send_reset,
)
from app.accounts.services import (
    authenticate,
    create_token,
    revoke_token,
    set_skill,
    tokens_of,
    user_by_username,
)
from app.accounts.sso import person_for_directory
from app.boards.access import boards_for
from app.boards.invites import invite_for
from app.cards.age import card_age_days
from app.cards.models import Card
from app.cards.wip import board_counts
from app.clock import utcnow
from app.errors import DomainError, Invalid
from app.extensions import db, htmx
from app.mail import mail_on
from app.swarms.experts import interests_of, loads, remove_skill, set_available, set_interest
from app.swarms.models import Availability
from app.swarms.services import pending_invitations
from app.validation import clean_text
from app.web.signin import INVITE_KEY, signed_in
from app.web.sso import provider_logout_url

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        username = request.form.get("username", "")
        keys = throttle.keys_for(username, request.remote_addr)
        if wait := throttle.wait_left(keys):
            flash(f"Too many failed logins for this account or from this address; try again in "
                  f"{wait} seconds.", "error")
            return render_template("accounts/login.html"), 429, {"Retry-After": str(wait)}
        password = request.form.get("password", "")
        user = authenticate(username, password)
        if user is None and current_app.config.get("LDAP"):
            return directory_login(username, password, keys)
        if user is None:
            throttle.failed(keys)
            db.session.commit()
            flash("That username and password do not match.", "error")
            return render_template("accounts/login.html"), 401
        throttle.succeeded(keys)
        return signed_in(user, "login.password", remember=bool(request.form.get("remember")))
    return render_template("accounts/login.html", invite_board=_waiting_invitation())


def directory_login(username: str, password: str, keys: list[str]):
    """No local account has that name and password: ask the LDAP directory."""
    settings = current_app.config["LDAP"]
    try:
        found = ldap_login(settings, username, password)
    except LdapUnavailable as error:
        db.session.rollback()
        flash(f"{error.message} Try again in a moment.", "error")
        return render_template("accounts/login.html"), 503
    if found is None:
        throttle.failed(keys)
        db.session.commit()
        flash("That username and password do not match.", "error")
        return render_template("accounts/login.html"), 401
    throttle.succeeded(keys)
    user = person_for_directory(found, settings)
    return signed_in(user, "login.ldap", remember=bool(request.form.get("remember")))


def _waiting_invitation() -> str | None:
    """The board of the invitation someone logs in to accept, to say so on the login page."""
    if token := session.get(INVITE_KEY):
        try:
            return invite_for(token).board.name
        except DomainError:
            session.pop(INVITE_KEY, None)
    return None


@bp.post("/logout")
def logout():
    """Log out; a single-sign-on session is ended at the provider too (it sends the browser
    back to the login page)."""
    at_provider = provider_logout_url()
    logout_user()
    return redirect(at_provider or url_for("accounts.login"))


# --- forgotten passwords and confirming addresses ------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    if not mail_on():
        return render_template("accounts/forgot.html", mail_on=False), 503
    if request.method == "POST":
        name = request.form.get("name", "")
        keys = throttle.keys_for(name, request.remote_addr, what="reset")
        if wait := throttle.wait_left(keys):
            flash(f"Too many requests; try again in {wait} seconds.", "error")
            return render_template("accounts/forgot.html", mail_on=True), 429, \
                {"Retry-After": str(wait)}
        throttle.failed(keys)  # every request counts: the links are not free to send
        send_reset(name)
        db.session.commit()
        return render_template("accounts/forgot.html", mail_on=True, sent=True)
    return render_template("accounts/forgot.html", mail_on=True)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    record = check_link(token, "reset")
    if request.method == "POST":
        try:
            user = reset_password(token, request.form.get("password", ""),
                                  request.form.get("again", ""))
        except LinkRefused:
            raise
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            return render_template("accounts/reset.html", person=record.user), 422
        db.session.commit()
        logout_user()
        flash("Your password is set; log in with it.", "success")
        return redirect(url_for("accounts.login", username=user.username))
    return render_template("accounts/reset.html", person=record.user)


@bp.get("/email/verify/<token>")
def verify_email(token: str):
    user = confirm_email(token)
    db.session.commit()
    return render_template("accounts/verified.html", person=user)


@bp.post("/profile/email/confirm")
@login_required
def resend_confirmation():
    if not current_user.email:
        raise Invalid("Give an email address first (under Notifications).")
    if current_user.email_verified_at is not None:
        flash(f"{current_user.email} is already confirmed.", "info")
    elif send_confirmation(current_user):
        flash(f"We sent a link to {current_user.email}: open it to confirm the address.",
              "success")
    else:
        flash("The confirmation email could not be sent; try again later.", "error")
    return redirect(url_for("accounts.profile") + "#notifications")


# --- one's own account --------------------------------------------------------------------


@bp.post("/profile/about")
@login_required
def save_about():
    current_user.display_name = clean_text(request.form.get("display_name", ""),
                                           "Display name", 80)
    db.session.commit()
    flash("Your name is saved.", "success")
    return redirect(url_for("accounts.profile") + "#account")


@bp.post("/profile/password")
@login_required
def save_password():
    change_password(current_user, request.form.get("current", ""),
                    request.form.get("password", ""), request.form.get("again", ""))
    db.session.commit()
    login_user(current_user._get_current_object())  # this session goes on, the others end
    flash("Password changed; your other sessions are logged out.", "success")
    return redirect(url_for("accounts.profile") + "#account")


@bp.post("/profile/sessions/end")
@login_required
def end_other_sessions():
    end_sessions(current_user, current_user)
    db.session.commit()
    login_user(current_user._get_current_object())
    flash("Logged out everywhere else.", "success")
    return redirect(url_for("accounts.profile") + "#account")


@bp.get("/")
@login_required
def home():
    """My work: the boards I belong to and the cards I own across them."""
    boards = boards_for(current_user)
    board_ids = [board.id for board, _role in boards]
    in_progress = board_counts(board_ids)
    mine = db.session.scalars(
        select(Card)
        .where(
            Card.owner_id == current_user.id,
            Card.archived_at.is_(None),
            Card.finished_at.is_(None),
            Card.board_id.in_(board_ids),
        )
        .options(selectinload(Card.column), selectinload(Card.board))
        .order_by(Card.blocked.desc(), Card.started_at)
    ).all()
    now = utcnow()
    my_cards = [(card, card_age_days(card, now)) for card in mine]
    return render_template(
        "accounts/home.html", boards=boards, in_progress=in_progress, my_cards=my_cards,
        invitations=pending_invitations(current_user),
    )


def helper_profile(user: User) -> dict:
    """Someone as a helper: skills with levels, interests, availability and current load."""
    return dict(
        person=user,
        skills=list(user.skills),
        interests=interests_of(user),
        availability=db.session.get(Availability, user.id),
        load=loads([user.id]).get(user.id, 0),
        now=utcnow(),
    )


def render_profile(new_token: str | None = None):
    return render_template("accounts/profile.html", tokens=tokens_of(current_user),
                           new_token=new_token, **helper_profile(current_user))


def helping_done(message: str):
    """Commit a change to my helper profile; answer with the section (HTMX) or the page."""
    db.session.commit()
    if not htmx:
        flash(message, "success")
        return redirect(url_for("accounts.profile") + "#helping")
    html = render_template("accounts/_helping.html", **helper_profile(current_user))
    return html + render_template("_flash_oob.html", message=message, level="success")


@bp.get("/profile")
@login_required
def profile():
    return render_profile()


@bp.post("/profile/skills")
@login_required
def save_skill():
    entry = set_skill(current_user, request.form.get("skill", ""), request.form.get("level", ""))
    return helping_done(f"{entry.skill}: level {entry.level} of 5.")


@bp.post("/profile/skills/remove")
@login_required
def drop_skill():
    skill = request.form.get("skill", "")
    remove_skill(current_user, skill)
    return helping_done(f"{skill} removed from your skills.")


@bp.post("/profile/interests")
@login_required
def add_interest():
    skill = request.form.get("skill", "")
    set_interest(current_user, skill, True)
    return helping_done(f"You want to grow in {skill.strip().lower()}.")


@bp.post("/profile/interests/remove")
@login_required
def drop_interest():
    skill = request.form.get("skill", "")
    set_interest(current_user, skill, False)
    return helping_done(f"{skill} removed from your interests.")


@bp.post("/profile/availability")
@login_required
def availability():
    available = request.form.get("available") in ("1", "true", "on")
    set_available(current_user, available, request.form.get("note", ""))
    return helping_done("You are available to help; you show on every board's drop-in panel."
                        if available else "You are no longer shown as available to help.")


@bp.get("/people/<username>")
@login_required
def person(username: str):
    """Anyone's helper profile, read-only, for whoever is logged in."""
    return render_template("accounts/person.html", **helper_profile(user_by_username(username)))


@bp.post("/profile/tokens")
@login_required
def new_token():
    token = create_token(current_user, request.form.get("name") or "API token")
    db.session.commit()
    return render_profile(new_token=token)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    revoke_token(current_user, token_id)
    db.session.commit()
    flash("Token revoked.", "success")
    return redirect(url_for("accounts.profile"))


# --- avatars ------------------------------------------------------------------------------


@bp.app_template_global("avatar_url")
def avatar_url(user) -> str | None:
    """The address of the person's picture; None while they show initials."""
    if not user.avatar_version:
        return None
    return url_for("accounts.avatar", key=avatar_key(user))


@bp.get("/avatars/<key>")
def avatar(key: str):
    """A picture, by its signed key (no login: wall displays show avatars too). Its address
    changes with every new picture, so it may be cached for good."""
    picture = avatar_for_key(key)
    response = make_response(picture.data)
    response.headers["Content-Type"] = picture.content_type
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.post("/profile/avatar")
@login_required
def save_avatar():
    upload = request.files.get("picture")
    set_avatar(current_user, upload.read(MAX_BYTES + 1) if upload else b"")
    db.session.commit()
    flash("Your picture is saved.", "success")
    return redirect(url_for("accounts.profile") + "#account")


@bp.post("/profile/avatar/remove")
@login_required
def drop_avatar():
    remove_avatar(current_user)
    db.session.commit()
    flash("Your avatar shows your initials again.", "success")
    return redirect(url_for("accounts.profile") + "#account")
