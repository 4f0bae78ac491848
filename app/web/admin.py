"""Site administration in the browser (site admins only): people, teams, API tokens, wall
links and the audit log. Thin: app.accounts.admin decides and writes the audit log;
deactivating someone also cuts their live sockets once the change is committed."""

from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.accounts import admin
from app.accounts.audit import ACTIONS, audit, audit_page
from app.accounts.audit import PAGE as AUDIT_PAGE
from app.accounts.models import AuditEntry, ExternalIdentity, TeamMember, User
from app.accounts.recovery import mail_welcome, send_welcome
from app.accounts.services import tokens_of, user_by_username
from app.boards.access import boards_for
from app.errors import Invalid
from app.extensions import db
from app.realtime.publish import end_live_sessions
from app.wall.models import WallLink
from app.wall.services import revoke_wall_link

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def only_admins():
    if not current_user.is_admin:
        abort(403, "Only site admins can see the administration pages.")


def _back(target: str, message: str, level: str = "success"):
    db.session.commit()
    flash(message, level)
    return redirect(target)


# --- people -------------------------------------------------------------------------------


@bp.get("/")
def index():
    return redirect(url_for("admin.people_page"))


@bp.get("/people")
def people_page():
    search, state = request.args.get("q", ""), request.args.get("state", "all")
    linked = set(db.session.scalars(select(ExternalIdentity.user_id)))
    return render_template("admin/people.html", people=admin.people(search=search, state=state),
                           search=search, state=state, linked=linked)


@bp.post("/people")
def add_person():
    form = request.form
    user = admin.add_person(current_user, form.get("username", ""),
                            display_name=form.get("display_name", ""),
                            email=form.get("email", ""), password=form.get("password", ""),
                            is_admin=bool(form.get("is_admin")))
    if form.get("password"):
        return _back(url_for("admin.person_page", username=user.username),
                     f"{user.username} can log in with the password you gave.")
    return _send_password_link(user, created=True)


def _send_password_link(user: User, *, created: bool = False):
    """A link for them to choose a password: emailed when possible, else shown to the admin
    (once) to hand over."""
    url = send_welcome(current_user, user)
    db.session.commit()
    done = "made; " if created else ""
    if mail_welcome(user, url, current_user):
        flash(f"{user.username} {done}a link to choose a password was emailed to {user.email}.",
              "success")
        return redirect(url_for("admin.person_page", username=user.username))
    flash(f"{user.username} {done}no email could be sent: give them the link below (shown "
          "once).", "info")
    return render_template("admin/person.html", **_person_context(user), handover=url)


def _person_context(user: User) -> dict:
    entries = list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.subject == user.username)
        .order_by(AuditEntry.id.desc()).limit(20)))
    identities = db.session.scalars(select(ExternalIdentity).where(
        ExternalIdentity.user_id == user.id)).all()
    return dict(person=user, boards=boards_for(user) if not user.is_admin else [],
                identities=identities,
                tokens=tokens_of(user), teams=[m.team for m in _memberships(user)],
                entries=entries, actions=ACTIONS)


def _memberships(user: User):
    return db.session.scalars(select(TeamMember).where(TeamMember.user_id == user.id))


@bp.get("/people/<username>")
def person_page(username: str):
    return render_template("admin/person.html", **_person_context(user_by_username(username)),
                           handover=None)


@bp.post("/people/<username>")
def change_person(username: str):
    user = admin.change_person(current_user, user_by_username(username),
                               display_name=request.form.get("display_name", ""),
                               email=request.form.get("email", ""))
    return _back(url_for("admin.person_page", username=user.username), "Saved.")


@bp.post("/people/<username>/deactivate")
def deactivate(username: str):
    user = admin.deactivate(current_user, user_by_username(username))
    return _cut_off(user, f"{user.username} is deactivated: logged out everywhere, their "
                          "tokens refused.")


@bp.post("/people/<username>/reactivate")
def reactivate(username: str):
    user = admin.reactivate(current_user, user_by_username(username))
    return _back(url_for("admin.person_page", username=user.username),
                 f"{user.username} can log in again.")


@bp.post("/people/<username>/admin")
def set_admin(username: str):
    wanted = request.form.get("admin") == "1"
    user = admin.set_admin(current_user, user_by_username(username), wanted)
    return _back(url_for("admin.person_page", username=user.username),
                 f"{user.username} is {'now' if wanted else 'no longer'} a site admin.")


@bp.post("/people/<username>/reset")
def reset_password(username: str):
    user = user_by_username(username)
    if not user.is_active:
        raise Invalid(f"{user.username} is deactivated; reactivate them first.")
    return _send_password_link(user)


@bp.post("/people/<username>/sessions")
def end_sessions(username: str):
    user = admin.end_sessions(current_user, user_by_username(username))
    return _cut_off(user, f"{user.username} is logged out everywhere.")


def _cut_off(user: User, message: str):
    """Commit the end of someone's sessions, then cut their live sockets (after the commit:
    a socket must not be cut for a change that did not happen)."""
    keys = [board.key for board, _role in boards_for(user)]
    db.session.commit()
    end_live_sessions(user, keys)
    flash(message, "success")
    return redirect(url_for("admin.person_page", username=user.username))


# --- teams --------------------------------------------------------------------------------


@bp.get("/teams")
def teams_page():
    return render_template("admin/teams.html", teams=admin.teams())


@bp.post("/teams")
def add_team():
    team = admin.add_team(current_user, request.form.get("name", ""))
    return _back(url_for("admin.teams_page") + f"#team-{team.id}", f"Team {team.name} made.")


@bp.post("/teams/<int:team_id>")
def rename_team(team_id: int):
    team = admin.rename_team(current_user, admin.team_by_id(team_id), request.form.get("name", ""))
    return _back(url_for("admin.teams_page") + f"#team-{team.id}", "Team renamed.")


@bp.post("/teams/<int:team_id>/delete")
def delete_team(team_id: int):
    team = admin.team_by_id(team_id)
    name = team.name
    admin.delete_team(current_user, team)
    return _back(url_for("admin.teams_page"), f"Team {name} deleted; its boards keep their "
                 "members.")


@bp.post("/teams/<int:team_id>/members")
def add_team_member(team_id: int):
    team = admin.team_by_id(team_id)
    user = admin.add_team_member(current_user, team, request.form.get("username", ""))
    return _back(url_for("admin.teams_page") + f"#team-{team.id}",
                 f"{user.username} is in {team.name}.")


@bp.post("/teams/<int:team_id>/members/<username>/remove")
def remove_team_member(team_id: int, username: str):
    team = admin.team_by_id(team_id)
    admin.remove_team_member(current_user, team, username)
    return _back(url_for("admin.teams_page") + f"#team-{team.id}",
                 f"{username} left {team.name}.")


# --- tokens and wall links ------------------------------------------------------------------


@bp.get("/tokens")
def tokens_page():
    return render_template("admin/tokens.html", tokens=admin.live_tokens())


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    token = admin.revoke_any_token(current_user, token_id)
    return _back(url_for("admin.tokens_page"),
                 f"Token {token.prefix}… of {token.user.username} revoked.")


@bp.get("/wall-links")
def wall_links_page():
    links = db.session.scalars(select(WallLink).order_by(WallLink.revoked_at.is_not(None),
                                                         WallLink.id.desc()))
    return render_template("admin/wall_links.html", links=list(links))


@bp.post("/wall-links/<int:link_id>/revoke")
def revoke_wall_link_(link_id: int):
    link = db.session.get(WallLink, link_id)
    if link is None:
        abort(404)
    revoke_wall_link(link.board, current_user, link.id)
    audit(current_user, "wall_link.revoked", link.name, board=link.board.key)
    return _back(url_for("admin.wall_links_page"), f"Wall link {link.name!r} revoked.")


# --- audit log ----------------------------------------------------------------------------


def _day(value: str | None, what: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise Invalid(f"{what} must be a date like 2026-12-07.") from None


@bp.get("/audit")
def audit_log():
    args = request.args
    action = args.get("action", "")
    if action and action not in ACTIONS and action not in {a.split(".")[0] for a in ACTIONS}:
        raise Invalid(f"There is no kind of action {action[:40]!r}.")
    since = _day(args.get("since"), "From")
    until = _day(args.get("until"), "Until")
    before = args.get("before", type=int)
    entries = audit_page(action=action, person=args.get("person", ""), since=since,
                         until=until + timedelta(days=1) if until else None, before=before)
    groups = sorted({a.split(".")[0] for a in ACTIONS})
    older_url = None
    if len(entries) == AUDIT_PAGE:
        kept = {k: v for k, v in args.items() if k != "before" and v}
        older_url = url_for("admin.audit_log", before=entries[-1].id, **kept)
    return render_template("admin/audit.html", entries=entries, actions=ACTIONS, groups=groups,
                           filters=args, older_url=older_url)
