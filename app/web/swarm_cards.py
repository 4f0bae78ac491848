"""Swarming from a card: the start form with suggested experts and similar past outcomes,
inviting from it, and the andon cord (pull and clear) on the card and the board.

Routes on the `swarming` blueprint; thin over app.swarms.services, experts, knowledge, andon.
A refusal re-renders the form it came from with the sentence, at its 4xx status, after a
rollback: nothing is written.
"""

from flask import g, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from app.boards.access import board_role
from app.cards.models import Card
from app.cards.services import get_card
from app.errors import DomainError, Invalid
from app.extensions import db, htmx
from app.swarms import andon
from app.swarms.banner import andon_banner
from app.swarms.experts import suggest_experts, suggestions_for
from app.swarms.knowledge import similar_swarms, similar_to
from app.swarms.models import SWARM_TYPES
from app.swarms.services import invite, open_swarm_of, start_swarm
from app.validation import word_list
from app.web import go_to
from app.web.boards import render_board
from app.web.cards import detail_context, render_detail
from app.web.swarming import bp, swarm_link


@bp.app_template_global("andon_banner")
def andon_banner_global(board) -> Markup:
    """For templates/boards/board.html (and the wall): the banner of pulled cords."""
    return andon_banner(board)


# --- the card's swarm panel ------------------------------------------------------------------


def _skills_from(text) -> list[str]:
    try:
        return word_list(text, "Skills needed", max_items=10)
    except DomainError:
        return []  # half-typed input: suggest from nothing until it reads as skills


def preview(card: Card, help_needed: str, skills: list[str], checked=()) -> dict:
    """Who could help and what was learned before, for a swarm not asked for yet. The card's
    owner and the starter are not suggested: they are in the room from the start."""
    exclude = {current_user.id} | ({card.owner_id} if card.owner_id else set())
    return dict(
        card=card,
        suggestions=suggest_experts(card.board, skills, exclude=exclude),
        similar=similar_to(current_user, card.title, help_needed, skills),
        checked=set(checked),
    )


def panel_context(card: Card) -> dict:
    """What the swarm panel of a card detail shows: the open swarm (people, who is invited,
    more suggestions, similar outcomes) or the start form."""
    role = board_role(card.board, current_user)
    can_edit = role in ("member", "owner")
    swarm = open_swarm_of(card)
    form = g.get("swarm_form") or {}
    context = dict(card=card, swarm=swarm, can_edit=can_edit, swarm_types=SWARM_TYPES,
                   message=form.get("message"))
    if swarm is not None:
        context.update(
            people=len({s.user_id for s in swarm.present()}),
            pending=[i for i in swarm.invitations if i.status == "pending"],
            suggestions=suggestions_for(swarm) if can_edit else [],
            similar=similar_swarms(swarm, current_user),
            checked=set(),
        )
    elif can_edit and card.archived_at is None and card.finished_at is None:
        values = form.get("values") or {
            "type": "backlog", "help_needed": "", "tried": "",
            "skills": ", ".join(card.required_skills or []),
        }
        context.update(values=values, **preview(card, values["help_needed"],
                                                _skills_from(values["skills"]),
                                                form.get("checked", ())))
    return context


@bp.app_template_global("swarm_panel")
def swarm_panel(card: Card) -> Markup:
    return Markup(render_template("swarms/_card_panel.html", **panel_context(card)))


def _panel_refused(card: Card, refused: DomainError, values: dict | None = None, checked=()):
    """The form again with the refusal's sentence, at its status; nothing was written."""
    db.session.rollback()
    g.swarm_form = {"message": refused.message, "values": values, "checked": checked}
    if htmx:
        return swarm_panel(card), refused.status
    return render_template("cards/detail.html", **detail_context(card)), refused.status


@bp.get("/cards/<card_key>/swarm/suggestions")
@login_required
def swarm_suggestions(card_key: str):
    """As the starter types the skills (or the help needed): the experts and past outcomes."""
    card = get_card(card_key, current_user, "member")
    skills = _skills_from(request.args.get("skills", "")[:500])
    context = preview(card, request.args.get("help_needed", "")[:2000], skills,
                      request.args.getlist("invite"))
    return render_template("swarms/_suggestions.html", **context)


@bp.post("/cards/<card_key>/swarm")
@login_required
def start(card_key: str):
    """Start a swarm on the card and invite whoever was ticked, all or nothing."""
    card = get_card(card_key, current_user)
    form = request.form
    values = {name: form.get(name, "") for name in ("type", "help_needed", "tried", "skills")}
    invitees = form.getlist("invite")
    try:
        swarm = start_swarm(card, current_user, type=values["type"],
                            help_needed=values["help_needed"], tried=values["tried"],
                            skills=values["skills"])
        for username in invitees:
            invite(swarm, current_user, username, why=form.get(f"why-{username}", "")[:300])
        db.session.commit()
    except DomainError as refused:
        return _panel_refused(card, refused, values, invitees)
    return go_to(swarm_link(swarm))


@bp.post("/cards/<card_key>/swarm/invite")
@login_required
def invite_expert(card_key: str):
    """Invite one suggested expert (or several ticked) into the card's open swarm."""
    card = get_card(card_key, current_user)
    invitees = request.form.getlist("invite")
    try:
        swarm = open_swarm_of(card)
        if swarm is None:
            raise Invalid(f"{card.key} has no open swarm to invite to; start one first.")
        if not invitees:
            raise Invalid("Tick someone to invite.")
        for username in invitees:
            invite(swarm, current_user, username,
                   why=request.form.get(f"why-{username}", "")[:300])
        db.session.commit()
    except DomainError as refused:
        return _panel_refused(card, refused)
    if htmx:
        return swarm_panel(card)
    return redirect(url_for("cards.show", card_key=card.key))


# --- the andon cord --------------------------------------------------------------------------


def _from_board() -> bool:
    return bool(htmx) and htmx.target == "board"


@bp.get("/cards/<card_key>/andon")
@login_required
def andon_dialog(card_key: str):
    """The board card's cord: a dialog asking why (or, when pulled, offering to clear it)."""
    card = get_card(card_key, current_user, "member")
    return render_template("swarms/_andon_dialog.html", card=card)


def _andon_answer(card: Card, message: str):
    if _from_board():
        html, status = render_board(card.board, message=message, level="success")
        return html, status
    if htmx:
        return render_detail(card, message=message)
    return redirect(url_for("cards.show", card_key=card.key))


def _andon_refused(card: Card, refused: DomainError):
    db.session.rollback()
    g.andon_error = refused.message
    if _from_board():  # the dialog again, with the sentence
        html = render_template("swarms/_andon_dialog.html", card=card, message=refused.message,
                               reason=request.form.get("reason", ""))
        return html, refused.status, {"HX-Retarget": "#modal", "HX-Reswap": "innerHTML"}
    if htmx:
        return render_detail(card, status=refused.status)
    return render_template("cards/detail.html", **detail_context(card)), refused.status


@bp.post("/cards/<card_key>/andon")
@login_required
def pull_andon_on(card_key: str):
    """Pull the cord: the card is flagged, every view of the board shows the banner, and an
    andon swarm opens (the push does the rest)."""
    card = get_card(card_key, current_user)
    try:
        andon.pull_andon(card, current_user, request.form.get("reason", ""))
        db.session.commit()
    except DomainError as refused:
        return _andon_refused(card, refused)
    return _andon_answer(card, f"Andon pulled on {card.key}: every view of the board shows it.")


@bp.post("/cards/<card_key>/andon/clear")
@login_required
def clear_andon_on(card_key: str):
    card = get_card(card_key, current_user)
    try:
        andon.clear_andon(card, current_user)
        db.session.commit()
    except DomainError as refused:
        return _andon_refused(card, refused)
    return _andon_answer(card, f"Andon cleared on {card.key}.")
