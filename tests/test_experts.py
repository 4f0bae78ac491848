"""Suggested experts: the smallest group covering the skills, then load, then availability."""

import pytest

from app.accounts.services import create_team, set_skill
from app.cards.moves import move_card
from app.extensions import db
from app.swarms import services as swarms
from app.swarms.experts import set_available, set_interest, suggest_experts, suggestions_for
from tests import factories as make


@pytest.fixture
def people(app):
    ann = make.user("ann")
    board = make.board(ann, "simple", key="SIM")
    folks = {"ann": ann}
    for name in ("dana", "eli", "finn", "gus", "hal", "ivy"):
        folks[name] = make.user(name)
        make.member(board, folks[name])
    return board, folks


def skills(user, **levels):
    for skill, level in levels.items():
        set_skill(user, skill, level)
    db.session.commit()


def busy(board, user, count):
    doing = make.column(board, "Doing")
    for n in range(count):
        card = make.card(board, user, f"{user.username} work {n}", owner=user.username)
        move_card(card, user, column=doing, override_reason="test load")
    db.session.commit()


def names(suggestions):
    return [s.user.username for s in suggestions]


def test_someone_who_covers_every_skill_comes_first(people):
    board, p = people
    skills(p["dana"], dns=5)
    skills(p["eli"], postfix=5)
    skills(p["finn"], dns=3, postfix=3)
    ranked = suggest_experts(board, ["dns", "postfix"])
    assert names(ranked)[0] == "finn"
    assert ranked[0].completes
    assert "covers every skill needed" in ranked[0].why


def test_when_nobody_covers_all_the_smallest_group_does(people):
    board, p = people
    skills(p["dana"], dns=5, ldap=4)
    skills(p["eli"], postfix=4)
    skills(p["finn"], dns=2)
    skills(p["gus"], ldap=5)
    ranked = suggest_experts(board, ["dns", "ldap", "postfix"])
    assert names(ranked)[:2] == ["dana", "eli"]
    assert all(s.completes for s in ranked[:2])
    assert "one of 2 who together cover every skill needed" in ranked[0].why
    assert set(names(ranked)[2:]) == {"finn", "gus"}


def test_a_lighter_load_then_availability_break_ties(people):
    board, p = people
    for name in ("dana", "eli", "finn"):
        skills(p[name], dns=4)
    busy(board, p["dana"], 2)
    set_available(p["finn"], True, "Free after 2pm")
    db.session.commit()
    ranked = suggest_experts(board, ["dns"])
    assert names(ranked) == ["finn", "eli", "dana"]
    assert ranked[-1].load == 2
    assert "2 cards in progress" in ranked[-1].why
    assert "available to help now" in ranked[0].why


def test_higher_levels_win_among_equal_coverage(people):
    board, p = people
    skills(p["dana"], dns=2)
    skills(p["eli"], dns=5)
    assert names(suggest_experts(board, ["dns"]))[:2] == ["eli", "dana"]


def test_learners_come_last_as_watchers_and_other_teams_are_marked(people):
    board, p = people
    outsider = make.user("zoe")
    skills(outsider, dns=5)
    set_interest(p["hal"], "dns")
    create_team("Network", [outsider])
    db.session.commit()
    ranked = suggest_experts(board, ["dns"])
    assert names(ranked) == ["zoe", "hal"]
    assert "from another team" in ranked[0].why
    assert ranked[1].why.startswith("wants to learn dns")


def test_a_running_swarm_does_not_suggest_who_is_in_it_or_already_asked(people):
    board, p = people
    for name in ("dana", "eli", "finn", "gus"):
        skills(p[name], dns=3)
    card = make.card(board, p["ann"], "DNS flaps", owner="ann")
    swarm = swarms.start_swarm(card, p["ann"], type="backlog", help_needed="Flapping",
                               skills="dns")
    swarms.join_swarm(swarm, p["dana"])
    swarms.invite(swarm, p["ann"], "eli")
    declined = swarms.invite(swarm, p["ann"], "finn")
    db.session.commit()
    swarms.decline_invitation(declined, p["finn"], reason="Busy")
    db.session.commit()
    # finn declined: the next suggestion (gus) surfaces.
    assert names(suggestions_for(swarm)) == ["gus"]


def test_no_skills_needed_means_no_suggestions(people):
    board, _ = people
    assert suggest_experts(board, []) == []
