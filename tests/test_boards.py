"""Board commands: templates, keys, columns, lanes, members, permissions and their events."""

import pytest
from sqlalchemy import select

from app.boards.access import board_role, get_board
from app.boards.models import BoardColumn
from app.boards.services import (
    active_columns,
    add_column,
    add_lane,
    board_lanes,
    commitment_point,
    create_board,
    find_column,
    find_lane,
    members_of,
    move_column,
    move_lane,
    remove_column,
    remove_lane,
    remove_member,
    set_member,
    update_board,
    update_column,
    update_lane,
)
from app.cards.moves import move_card
from app.cards.services import archive_card
from app.errors import Forbidden, Invalid, NotFound
from app.events.models import Event
from app.extensions import db
from tests import factories as make


def column_names(board):
    return [c.name for c in active_columns(board)]


def lane_names(board):
    return [ln.name for ln in board_lanes(board)]


def events_of(board):
    return db.session.scalars(
        select(Event).where(Event.board_id == board.id).order_by(Event.seq)
    ).all()


def last_event(board):
    return events_of(board)[-1]


# --- creating boards -----------------------------------------------------------------------


def test_restoration_template_lays_out_the_incident_flow(app):
    ann = make.user("ann")
    board = make.board(ann, "restoration", key="INC")
    columns = active_columns(board)
    assert [c.name for c in columns] == [
        "Reported",
        "Acknowledged",
        "Investigating",
        "Awaiting specialist",
        "Specialist fixing",
        "Ready to deploy",
        "Deploying",
        "Verifying",
        "Resolved",
        "Improvement review",
        "Closed",
    ]
    assert columns[0].kind == "backlog" and columns[-1].kind == "done"
    # Resolved (fixed) and Closed (user confirmed) are different states.
    assert find_column(board, "Resolved").kind != "done"
    assert [c.position for c in columns] == list(range(len(columns)))
    assert find_column(board, "Specialist fixing").wip_limit == 3
    assert find_column(board, "Specialist fixing").wip_policy == "hard"
    assert {c.value_activity for c in columns} == {
        "engage",
        "deliver_support",
        "obtain_build",
        "design_transition",
        "improve",
    }
    assert lane_names(board) == ["Expedite", "Fixed date", "Standard", "Intangible"]
    expedite = find_lane(board, "Expedite")
    assert expedite.class_of_service == "expedite" and expedite.wip_limit == 1
    assert board_role(board, ann) == "owner"


def test_new_service_template_runs_from_requests_to_released(app):
    ann = make.user("ann")
    board = make.board(ann, "new-service", key="NEW")
    columns = active_columns(board)
    assert columns[0].name == "Requests" and columns[0].kind == "backlog"
    assert columns[-1].name == "Released" and columns[-1].kind == "done"
    assert [c.kind for c in columns].count("done") == 1
    assert "plan" in {c.value_activity for c in columns}, "the investment decision is planning"
    # A queue column waits in front of each specialist step.
    kinds = [c.kind for c in columns]
    assert kinds[kinds.index("queue") :].count("queue") >= 3
    assert find_column(board, "Ready to build").kind == "queue"
    assert find_column(board, "Building").kind == "active"
    assert lane_names(board) == ["Expedite", "Fixed date", "Standard", "Intangible"]
    assert board_role(board, ann) == "owner"


def test_simple_template_is_to_do_doing_done_with_one_lane(app):
    ann = make.user("ann")
    board = make.board(ann, "simple", key="SIM")
    assert [(c.name, c.kind) for c in active_columns(board)] == [
        ("To do", "backlog"),
        ("Doing", "active"),
        ("Done", "done"),
    ]
    assert lane_names(board) == ["Standard"]
    assert [m.user.username for m in members_of(board)] == ["ann"]
    assert members_of(board)[0].role == "owner"


@pytest.mark.parametrize("template", [None, ""])
def test_empty_board_has_no_columns_and_one_standard_lane(app, template):
    ann = make.user("ann")
    board = make.board(ann, template, key="EMP")
    assert column_names(board) == []
    assert [(ln.name, ln.class_of_service) for ln in board_lanes(board)] == [
        ("Standard", "standard")
    ]
    assert commitment_point(board) is None
    assert board_role(board, ann) == "owner"


def test_creating_a_board_records_the_template_in_its_first_event(app):
    ann = make.user("ann")
    board = make.board(ann, "restoration", key="INC", name="Service desk")
    events = events_of(board)
    assert [(e.seq, e.type) for e in events] == [(1, "board.created")]
    assert events[0].data == {"template": "restoration", "name": "Service desk"}
    assert events[0].actor_id == ann.id


def test_unknown_template_is_refused(app):
    ann = make.user("ann")
    with pytest.raises(Invalid, match="Template must be one of: restoration, new-service"):
        create_board(ann, name="Ops", key="OPS", template="scrum")


@pytest.mark.parametrize(
    "key",
    ["1ABC", "A", "A-B", "ABC DEF", "ÄBC", "ABCDEFGHIJK", ""],
)
def test_bad_board_keys_are_refused_with_a_sentence(app, key):
    ann = make.user("ann")
    with pytest.raises(Invalid, match="Board key") as refused:
        create_board(ann, name="Ops", key=key)
    assert refused.value.message.endswith(".")


def test_board_key_is_upper_cased(app):
    ann = make.user("ann")
    board = make.board(ann, None, key=" ops2 ")
    assert board.key == "OPS2"
    assert get_board("ops2", ann) is board


def test_duplicate_board_key_is_refused_whatever_its_case(app):
    ann = make.user("ann")
    make.board(ann, "simple", key="OPS")
    with pytest.raises(Invalid, match="The key OPS is taken by another board."):
        create_board(ann, name="Other ops", key="ops")


def test_unknown_time_zone_is_refused(app):
    ann = make.user("ann")
    with pytest.raises(Invalid, match="Unknown time zone 'Mars/Olympus'"):
        create_board(ann, name="Ops", key="OPS", timezone="Mars/Olympus")


def test_owner_renames_the_board_and_the_change_is_recorded(simple):
    board, ann, _ = simple
    update_board(board, ann, name="  Desk  ", timezone="Europe/Berlin")
    db.session.commit()
    assert board.name == "Desk" and board.timezone == "Europe/Berlin"
    event = last_event(board)
    assert event.type == "board.updated"
    assert event.data["changes"] == {"name": "Desk", "timezone": "Europe/Berlin"}


# --- columns -------------------------------------------------------------------------------


def test_add_column_at_a_position_shifts_the_others_right(simple):
    board, ann, _ = simple
    column = add_column(board, ann, name="Review", kind="queue", position=2)
    db.session.commit()
    assert column_names(board) == ["To do", "Doing", "Review", "Done"]
    assert [c.position for c in active_columns(board)] == [0, 1, 2, 3]
    assert column.kind == "queue"
    event = last_event(board)
    assert event.type == "column.added" and event.to_column_id == column.id


def test_add_column_without_position_goes_last_and_defaults_to_active(simple):
    board, ann, _ = simple
    column = add_column(board, ann, name="Follow-up")
    db.session.commit()
    assert column_names(board)[-1] == "Follow-up"
    assert column.kind == "active"


def test_add_column_needs_a_unique_name(simple):
    board, ann, _ = simple
    with pytest.raises(Invalid, match="Column name cannot be empty"):
        add_column(board, ann, name="   ")
    with pytest.raises(Invalid, match="Column name cannot be empty"):
        add_column(board, ann, kind="queue")
    with pytest.raises(Invalid, match="already has a column named 'doing'"):
        add_column(board, ann, name="doing")


def test_unknown_column_kind_is_refused(simple):
    board, ann, _ = simple
    with pytest.raises(Invalid, match="Column kind must be one of: backlog, queue, active, done"):
        add_column(board, ann, name="Limbo", kind="waiting")


def test_rename_column_is_recorded_with_the_change(simple):
    board, ann, _ = simple
    doing = find_column(board, "Doing")
    update_column(board, ann, doing, name="In progress")
    db.session.commit()
    assert column_names(board) == ["To do", "In progress", "Done"]
    event = last_event(board)
    assert event.type == "column.updated"
    assert event.data["changes"] == {"name": "In progress"}


def test_renaming_a_column_to_a_sibling_name_is_refused(simple):
    board, ann, _ = simple
    with pytest.raises(Invalid, match="already has a column named 'Done'"):
        update_column(board, ann, find_column(board, "Doing"), name="Done")


def test_an_update_that_changes_nothing_records_nothing(simple):
    board, ann, _ = simple
    seq = board.last_seq
    update_column(board, ann, find_column(board, "Doing"), name="Doing", kind="active")
    db.session.commit()
    assert board.last_seq == seq


def test_reorder_column_moves_it_and_renumbers(simple):
    board, ann, _ = simple
    done = find_column(board, "Done")
    move_column(board, ann, done, 0)
    db.session.commit()
    assert column_names(board) == ["Done", "To do", "Doing"]
    assert [c.position for c in active_columns(board)] == [0, 1, 2]
    assert last_event(board).type == "column.reordered"
    move_column(board, ann, done, 99)  # past the end means last
    db.session.commit()
    assert column_names(board) == ["To do", "Doing", "Done"]


def test_delete_empty_column_keeps_it_for_history_but_off_the_board(simple):
    board, ann, bob = simple
    review = add_column(board, ann, name="Review", kind="queue", position=2)
    db.session.commit()
    remove_column(board, ann, review)
    db.session.commit()
    assert column_names(board) == ["To do", "Doing", "Done"]
    assert [c.position for c in active_columns(board)] == [0, 1, 2]
    assert db.session.get(BoardColumn, review.id).removed_at is not None
    event = last_event(board)
    assert event.type == "column.removed" and event.from_column_id == review.id
    with pytest.raises(NotFound, match="has no column 'Review'"):
        find_column(board, "Review")


def test_delete_column_holding_cards_is_refused_with_a_message(simple):
    board, ann, bob = simple
    doing = find_column(board, "Doing")
    for title in ("one", "two"):
        move_card(make.card(board, ann, title), bob, column=doing)
    db.session.commit()
    seq = board.last_seq
    with pytest.raises(Invalid, match="Column 'Doing' still holds 2 card\\(s\\); move them"):
        remove_column(board, ann, doing)
    db.session.rollback()
    assert "Doing" in column_names(board)
    assert board.last_seq == seq


def test_delete_column_whose_only_cards_are_archived_is_allowed(simple):
    board, ann, bob = simple
    doing = find_column(board, "Doing")
    card = make.card(board, ann, column=doing)
    archive_card(card, bob)
    db.session.commit()
    remove_column(board, ann, doing)
    db.session.commit()
    assert column_names(board) == ["To do", "Done"]


def test_commitment_point_is_the_first_non_backlog_column(app):
    ann = make.user("ann")
    board = make.board(ann, "restoration", key="INC")
    assert commitment_point(board).name == "Acknowledged"
    simple = make.board(ann, "simple", key="SIM")
    assert commitment_point(simple).name == "Doing"


def test_commitment_point_moves_when_kinds_change(simple):
    board, ann, _ = simple
    update_column(board, ann, find_column(board, "Doing"), kind="backlog")
    db.session.commit()
    assert commitment_point(board).name == "Done"
    update_column(board, ann, find_column(board, "To do"), kind="queue")
    db.session.commit()
    assert commitment_point(board).name == "To do"


def test_commitment_point_moves_when_columns_are_reordered(simple):
    board, ann, _ = simple
    ready = add_column(board, ann, name="Ready", kind="queue", position=1)
    db.session.commit()
    assert commitment_point(board) == ready
    move_column(board, ann, ready, 3)
    db.session.commit()
    assert commitment_point(board).name == "Doing"


@pytest.mark.parametrize(
    "wip_limit, message",
    [
        (0, "WIP limit must be at least 1, or empty for no limit."),
        (-3, "WIP limit must be at least 1, or empty for no limit."),
        ("-1", "WIP limit must be at least 1, or empty for no limit."),
        ("three", "WIP limit must be a whole number"),
        ("2.5", "WIP limit must be a whole number"),
        (2.5, "WIP limit must be a whole number"),
        (True, "WIP limit must be a whole number"),
        (1000, "WIP limit must be at most 999."),
    ],
)
def test_bad_wip_limits_are_refused(simple, wip_limit, message):
    board, ann, _ = simple
    doing = find_column(board, "Doing")
    with pytest.raises(Invalid) as refused:
        update_column(board, ann, doing, wip_limit=wip_limit)
    assert refused.value.message.startswith(message)
    db.session.rollback()
    assert find_column(board, "Doing").wip_limit == 3
    with pytest.raises(Invalid):
        add_column(board, ann, name="Extra", wip_limit=wip_limit)


@pytest.mark.parametrize("given, stored", [("4", 4), (4, 4), ("", None), (None, None)])
def test_wip_limit_accepts_whole_numbers_and_empty_for_none(simple, given, stored):
    board, ann, _ = simple
    doing = update_column(board, ann, find_column(board, "Doing"), wip_limit=given)
    db.session.commit()
    assert doing.wip_limit == stored


def test_unknown_wip_and_sort_policies_are_refused(simple):
    board, ann, _ = simple
    doing = find_column(board, "Doing")
    with pytest.raises(Invalid, match="WIP policy must be one of"):
        update_column(board, ann, doing, wip_policy="strict")
    with pytest.raises(Invalid, match="Sort policy must be one of"):
        update_column(board, ann, doing, sort_policy="random")


def test_definition_of_done_is_kept_as_items_without_blanks(simple):
    board, ann, _ = simple
    doing = update_column(
        board, ann, find_column(board, "Doing"), done_checklist="Tested\n\n  Documented  \n"
    )
    db.session.commit()
    assert doing.done_checklist == ["Tested", "Documented"]


# --- lanes ---------------------------------------------------------------------------------


def test_add_lane_goes_last_as_standard_by_default(simple):
    board, ann, _ = simple
    lane = add_lane(board, ann, name="Fixed date")
    db.session.commit()
    assert lane_names(board) == ["Standard", "Fixed date"]
    assert lane.class_of_service == "standard" and lane.position == 1
    event = last_event(board)
    assert event.type == "lane.added" and event.data["lane"] == lane.id


def test_add_lane_validates_name_class_and_limit(simple):
    board, ann, _ = simple
    with pytest.raises(Invalid, match="Lane name cannot be empty"):
        add_lane(board, ann, name=" ")
    with pytest.raises(Invalid, match="already has a lane named 'standard'"):
        add_lane(board, ann, name="standard")
    with pytest.raises(Invalid, match="Class of service must be one of"):
        add_lane(board, ann, name="VIP", class_of_service="vip")
    with pytest.raises(Invalid, match="Lane WIP limit must be at least 1"):
        add_lane(board, ann, name="Expedite", class_of_service="expedite", wip_limit=0)


def test_update_lane_changes_its_limit_and_records_it(simple):
    board, ann, _ = simple
    lane = add_lane(board, ann, name="Expedite", class_of_service="expedite")
    db.session.commit()
    update_lane(board, ann, lane, wip_limit="1", name="Urgent")
    db.session.commit()
    assert (lane.name, lane.wip_limit) == ("Urgent", 1)
    event = last_event(board)
    assert event.type == "lane.updated"
    assert event.data["changes"] == {"name": "Urgent", "wip_limit": 1}


def test_reorder_lanes(simple):
    board, ann, _ = simple
    expedite = add_lane(board, ann, name="Expedite", class_of_service="expedite")
    add_lane(board, ann, name="Intangible", class_of_service="intangible")
    db.session.commit()
    move_lane(board, ann, expedite, 0)
    db.session.commit()
    assert lane_names(board) == ["Expedite", "Standard", "Intangible"]
    assert [ln.position for ln in board_lanes(board)] == [0, 1, 2]
    event = last_event(board)
    assert event.type == "lane.reordered" and event.data["position"] == 0


def test_delete_empty_lane_renumbers_the_rest(app):
    ann = make.user("ann")
    board = make.board(ann, "restoration", key="INC")
    remove_lane(board, ann, find_lane(board, "Fixed date"))
    db.session.commit()
    assert lane_names(board) == ["Expedite", "Standard", "Intangible"]
    assert [ln.position for ln in board_lanes(board)] == [0, 1, 2]
    event = last_event(board)
    assert event.type == "lane.removed" and event.data["name"] == "Fixed date"


def test_lane_holding_cards_cannot_be_deleted_even_when_archived(simple):
    board, ann, bob = simple
    expedite = add_lane(board, ann, name="Expedite", class_of_service="expedite")
    db.session.commit()
    card = make.card(board, ann, lane=expedite)
    archive_card(card, bob)
    db.session.commit()
    with pytest.raises(Invalid, match="Lane 'Expedite' has held 1 card\\(s\\)"):
        remove_lane(board, ann, expedite)
    db.session.rollback()
    assert lane_names(board) == ["Standard", "Expedite"]


def test_last_lane_cannot_be_deleted(simple):
    board, ann, _ = simple
    with pytest.raises(Invalid, match="A board needs at least one lane."):
        remove_lane(board, ann, find_lane(board, "Standard"))


# --- members -------------------------------------------------------------------------------


def test_add_member_change_role_and_remove(simple):
    board, ann, bob = simple
    cid = make.user("cid")
    set_member(board, ann, "cid", "viewer")
    db.session.commit()
    assert board_role(board, cid) == "viewer"
    set_member(board, ann, "cid", "member")
    db.session.commit()
    assert board_role(board, cid) == "member"
    remove_member(board, ann, "cid")
    db.session.commit()
    assert board_role(board, cid) is None
    assert [e.type for e in events_of(board)][-3:] == [
        "member.added",
        "member.changed",
        "member.removed",
    ]
    assert events_of(board)[-2].data == {"user": "cid", "role": "member"}


def test_setting_the_same_role_again_records_nothing(simple):
    board, ann, _ = simple
    seq = board.last_seq
    set_member(board, ann, "bob", "member")
    db.session.commit()
    assert board.last_seq == seq


def test_unknown_user_or_role_is_refused(simple):
    board, ann, _ = simple
    with pytest.raises(NotFound, match="There is no user 'ghost'"):
        set_member(board, ann, "ghost", "member")
    with pytest.raises(Invalid, match="Role must be one of: viewer, member, owner"):
        set_member(board, ann, "bob", "admin")
    make.user("cid")
    with pytest.raises(NotFound, match="cid is not a member of SIM"):
        remove_member(board, ann, "cid")


def test_last_owner_cannot_step_down_or_leave(simple):
    board, ann, _ = simple
    with pytest.raises(Invalid, match="SIM needs another owner before ann steps down."):
        set_member(board, ann, "ann", "member")
    db.session.rollback()
    with pytest.raises(Invalid, match="needs another owner"):
        remove_member(board, ann, "ann")
    db.session.rollback()
    assert board_role(board, ann) == "owner"


def test_an_owner_may_step_down_once_there_is_another(simple):
    board, ann, bob = simple
    set_member(board, ann, "bob", "owner")
    set_member(board, ann, "ann", "member")
    db.session.commit()
    assert (board_role(board, ann), board_role(board, bob)) == ("member", "owner")


@pytest.mark.parametrize(
    "command",
    [
        lambda b, u: update_board(b, u, name="Mine now"),
        lambda b, u: add_column(b, u, name="Sneaky"),
        lambda b, u: update_column(b, u, find_column(b, "Doing"), wip_limit=99),
        lambda b, u: move_column(b, u, find_column(b, "Done"), 0),
        lambda b, u: remove_column(b, u, find_column(b, "Done")),
        lambda b, u: add_lane(b, u, name="Sneaky"),
        lambda b, u: update_lane(b, u, find_lane(b, "Standard"), wip_limit=1),
        lambda b, u: move_lane(b, u, find_lane(b, "Standard"), 0),
        lambda b, u: set_member(b, u, "bob", "owner"),
        lambda b, u: remove_member(b, u, "ann"),
    ],
    ids=[
        "update_board",
        "add_column",
        "update_column",
        "move_column",
        "remove_column",
        "add_lane",
        "update_lane",
        "move_lane",
        "set_member",
        "remove_member",
    ],
)
def test_viewers_and_members_cannot_change_the_board_and_outsiders_cannot_see_it(simple, command):
    board, ann, bob = simple
    vic = make.user("vic")
    make.member(board, vic, "viewer")
    eve = make.user("eve")
    seq = board.last_seq

    with pytest.raises(Forbidden, match="As a viewer of SIM you cannot manage it."):
        command(board, vic)
    db.session.rollback()
    with pytest.raises(Forbidden, match="As a member of SIM"):
        command(board, bob)
    db.session.rollback()
    with pytest.raises(NotFound, match="There is no board SIM.") as hidden:
        command(board, eve)
    db.session.rollback()
    assert "viewer" not in hidden.value.message and "member" not in hidden.value.message
    assert board.last_seq == seq
    assert column_names(board) == ["To do", "Doing", "Done"]


def test_outsider_gets_the_same_answer_as_for_a_board_that_does_not_exist(simple):
    _, _, _ = simple
    eve = make.user("eve")
    with pytest.raises(NotFound) as existing:
        get_board("SIM", eve)
    with pytest.raises(NotFound) as missing:
        get_board("NOPE", eve)
    assert existing.value.message == "There is no board SIM."
    assert missing.value.message == "There is no board NOPE."


def test_site_admin_acts_as_owner_without_membership(simple):
    board, _, _ = simple
    root = make.user("root", is_admin=True)
    add_column(board, root, name="Audit")
    db.session.commit()
    assert "Audit" in column_names(board)


def test_every_board_command_appends_one_event_with_gapless_numbers(simple):
    board, ann, _ = simple
    make.user("cid")
    start = board.last_seq
    commands = [
        ("board.updated", lambda: update_board(board, ann, description="Desk work")),
        ("column.added", lambda: add_column(board, ann, name="Review", kind="queue")),
        (
            "column.updated",
            lambda: update_column(board, ann, find_column(board, "Review"), wip_limit=2),
        ),
        ("column.reordered", lambda: move_column(board, ann, find_column(board, "Review"), 1)),
        ("column.removed", lambda: remove_column(board, ann, find_column(board, "Review"))),
        ("lane.added", lambda: add_lane(board, ann, name="Expedite")),
        (
            "lane.updated",
            lambda: update_lane(board, ann, find_lane(board, "Expedite"), wip_limit=1),
        ),
        ("lane.reordered", lambda: move_lane(board, ann, find_lane(board, "Expedite"), 0)),
        ("lane.removed", lambda: remove_lane(board, ann, find_lane(board, "Expedite"))),
        ("member.added", lambda: set_member(board, ann, "cid", "viewer")),
        ("member.changed", lambda: set_member(board, ann, "cid", "member")),
        ("member.removed", lambda: remove_member(board, ann, "cid")),
    ]
    for expected, command in commands:
        command()
        db.session.commit()
        event = last_event(board)
        assert event.type == expected
        assert event.actor_id == ann.id
    events = events_of(board)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert board.last_seq == start + len(commands)


# --- the live columns a transaction keeps --------------------------------------------------


def test_a_column_added_mid_transaction_is_in_the_next_read_and_gone_after_a_rollback(app):
    ann = make.user("ann")
    board = make.board(ann)
    db.session.commit()
    before = column_names(board)  # read and kept for this transaction
    add_column(board, ann, name="Review", kind="queue", position=1)
    assert column_names(board) == [before[0], "Review", *before[1:]]
    db.session.rollback()
    assert column_names(board) == before


def test_a_column_renamed_or_moved_in_another_transaction_is_read_afresh(app):
    ann = make.user("ann")
    board = make.board(ann)
    db.session.commit()
    first, second = active_columns(board)[:2]
    move_column(board, ann, first, 1)
    db.session.commit()
    assert column_names(board)[:2] == [second.name, first.name]
    update_column(board, ann, second, name="Triage")
    assert column_names(board)[0] == "Triage"
