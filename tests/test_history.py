"""History import and export in ActionableAgile's CSV format: valid files, every kind of bad
file (nothing written, every bad row reported), the CLI, the upload page, and the round trip."""

import csv
import io
import json
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from app.boards.models import Board
from app.boards.services import active_columns, update_board, update_column
from app.cards.models import Card
from app.cards.moves import move_card
from app.cards.services import archive_card, block_card, create_card, unblock_card
from app.errors import Invalid
from app.events.models import Event
from app.extensions import db
from app.history.csvformat import MAX_IMPORT_BYTES, ImportRejected, read_rows
from app.history.services import export_history, import_history
from tests import factories as make

HEADER = "ID,Name,To do,Doing,Done"


def csv_file(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def cards_of(board) -> list[Card]:
    return list(db.session.scalars(select(Card).where(Card.board_id == board.id)
                                   .order_by(Card.number)))


def events_of(card) -> list[tuple[str, datetime, str | None]]:
    """(type, at, column entered) for each event of the card, in order."""
    rows = db.session.scalars(select(Event).where(Event.card_id == card.id).order_by(Event.seq))
    return [(e.type, e.at, (e.data or {}).get("to_column_name")) for e in rows]


def event_count() -> int:
    return db.session.scalar(select(func.count(Event.id)))


def card_count() -> int:
    return db.session.scalar(select(func.count(Card.id)))


# --- valid files -------------------------------------------------------------------------------


def test_dates_only_are_midnight_on_the_boards_clock(simple):
    board, ann, _bob = simple
    update_board(board, ann, timezone="Europe/Paris")
    db.session.commit()
    result = import_history(board, csv_file(
        HEADER,
        "A-1,Renew the certificate,2026-11-02,2026-11-03,2026-11-05",
        "A-2,Patch the file servers,2026-11-02,2026-11-04,",
    ), ann)
    db.session.commit()

    assert (result.cards, result.board_created) == (2, False)
    first, second = cards_of(board)
    assert first.title == "Renew the certificate"
    assert first.created_at == datetime(2026, 11, 1, 23, 0)  # midnight in Paris, UTC+1
    assert first.started_at == datetime(2026, 11, 2, 23, 0)
    assert first.finished_at == datetime(2026, 11, 4, 23, 0)
    assert first.column.name == "Done"
    assert second.column.name == "Doing" and second.finished_at is None
    assert "A-1" in first.description
    assert events_of(first) == [
        ("card.created", datetime(2026, 11, 1, 23, 0), "To do"),
        ("card.moved", datetime(2026, 11, 2, 23, 0), "Doing"),
        ("card.moved", datetime(2026, 11, 4, 23, 0), "Done"),
    ]


def test_date_times_with_and_without_offsets(simple):
    board, ann, _bob = simple
    update_board(board, ann, timezone="America/New_York")
    db.session.commit()
    import_history(board, csv_file(
        HEADER,
        "1,Local wall time,2026-07-01T09:30,2026-07-01 14:00:00,2026-07-02T08:15:30",
        "2,Explicit offsets,2026-07-01T09:30:00Z,2026-07-01T16:00:00+02:00,",
    ), ann)
    db.session.commit()
    explicit, local = cards_of(board)  # numbered in the order they were created
    assert local.created_at == datetime(2026, 7, 1, 13, 30)  # New York is UTC-4 in July
    assert local.started_at == datetime(2026, 7, 1, 18, 0)
    assert local.finished_at == datetime(2026, 7, 2, 12, 15, 30)
    assert explicit.created_at == datetime(2026, 7, 1, 9, 30)
    assert explicit.started_at == datetime(2026, 7, 1, 14, 0)


def test_skipped_stages_move_straight_on(simple):
    board, ann, _bob = simple
    import_history(board, csv_file(
        HEADER,
        "1,Straight to done,2026-03-01,,2026-03-04",
        "2,Created in Doing,,2026-03-02,2026-03-03",
    ), ann)
    db.session.commit()
    skipped, late = cards_of(board)
    assert [e[2] for e in events_of(skipped)] == ["To do", "Done"]
    # Finishing without passing the commitment point still starts the clock (a done column
    # lies past it), so its cycle time is zero rather than missing.
    assert skipped.started_at == skipped.finished_at == datetime(2026, 3, 4)
    assert late.created_at == late.started_at == datetime(2026, 3, 2)
    assert [e[2] for e in events_of(late)] == ["Doing", "Done"]


def test_attribute_columns_are_read_and_unknown_ones_ignored(simple):
    board, ann, _bob = simple
    result = import_history(board, csv_file(
        "ID,Link,Name,To do,Doing,Done,Type,Assignee,Tags,Blocked",
        "7,https://jira/7,Printer offline,2026-03-01,2026-03-02T08:00,2026-03-05,Incident,bob,"
        "printer|lyon,2026-03-02T10:00/2026-03-03T10:00 Waiting for vendor | "
        "2026-03-04T09:00/2026-03-04T12:00 Change window",
        "8,https://jira/8,Build a thing,2026-03-01,2026-03-02,,Story,ann,,"
        "2026-03-03T10:00/ Waiting",
    ), ann)
    db.session.commit()
    assert result.ignored_columns == ["Assignee"]
    printer, story = cards_of(board)
    assert printer.type == "incident" and printer.tags == ["printer", "lyon"]
    assert not printer.blocked
    blocked = db.session.scalars(
        select(Event).where(Event.card_id == printer.id, Event.type == "card.unblocked")
        .order_by(Event.seq)
    ).all()
    assert [(e.data["reason"], e.data["blocked_seconds"]) for e in blocked] == [
        ("Waiting for vendor", 86400.0), ("Change window", 3 * 3600.0)
    ]
    assert story.type is None and story.tags == ["story"], "an unknown type is kept as a tag"
    assert story.blocked and story.blocked_reason == "Waiting"
    assert story.blocked_at == datetime(2026, 3, 3, 10, 0)


def test_new_board_from_the_header(app):
    ann = make.user("ann")
    result = import_history(None, csv_file(
        "ID,Name,Backlog,Ready,Doing,Waiting for review,Reviewing,Done,Type,Lane",
        "1,First,2026-01-05,2026-01-06,2026-01-07,2026-01-08,2026-01-09,2026-01-10,feature,"
        "Expedite",
        "2,Second,2026-01-06,,2026-01-08,,,,defect,",
    ), ann, board_key="hist", board_name="Imported history", timezone="Europe/Paris")
    db.session.commit()

    board = result.board
    assert result.board_created and board.key == "HIST" and board.timezone == "Europe/Paris"
    assert [(c.name, c.kind) for c in active_columns(board)] == [
        ("Backlog", "backlog"), ("Ready", "queue"), ("Doing", "active"),
        ("Waiting for review", "queue"), ("Reviewing", "active"), ("Done", "done"),
    ]
    assert [lane.name for lane in board.lanes] == ["Standard", "Expedite"]
    assert board.lanes[1].class_of_service == "expedite"
    assert board.created_at == datetime(2026, 1, 4, 23, 0), "the board predates its history"
    first, second = cards_of(board)
    assert first.lane.name == "Expedite" and second.lane.name == "Standard"
    assert first.started_at == datetime(2026, 1, 5, 23, 0), "work starts at the second stage"
    assert first.finished_at == datetime(2026, 1, 9, 23, 0)
    shape = db.session.scalars(
        select(Event.at).where(Event.board_id == board.id, Event.card_id.is_(None))
    ).all()
    assert set(shape) == {board.created_at}, "board, columns and lanes are dated with it"
    seqs = db.session.execute(
        select(Event.seq, Event.at).where(Event.board_id == board.id).order_by(Event.seq)
    ).all()
    assert [at for _seq, at in seqs] == sorted(at for _seq, at in seqs), "seq follows time"


def test_named_start_and_done_stages_on_a_new_board(app):
    ann = make.user("ann")
    result = import_history(None, csv_file(
        "ID,Name,Requested,Analysis,Ready,Building,Released,Measured",
        "1,One,2026-02-01,2026-02-02,2026-02-03,2026-02-04,2026-02-05,2026-02-09",
    ), ann, board_key="NAMED", board_name="Named", start_stage="ready",
        done_stage="Released", queue_stages=["Ready"])
    db.session.commit()
    assert [c.kind for c in active_columns(result.board)] == [
        "backlog", "backlog", "queue", "active", "done", "done"
    ]
    (card,) = cards_of(result.board)
    assert card.started_at == datetime(2026, 2, 3)
    assert card.finished_at == datetime(2026, 2, 5), "moving on within done keeps the finish"


def test_existing_board_decides_where_work_starts(simple):
    board, ann, _bob = simple
    text = csv_file(HEADER, "1,One,2026-02-01,2026-02-02,2026-02-03")
    with pytest.raises(Invalid, match="work starts at its first column after the backlog, which "
                                      "in this file is 'Doing', not 'To do'"):
        import_history(board, text, ann, start_stage="To do")
    db.session.rollback()
    with pytest.raises(Invalid, match="not 'Doing'"):
        import_history(board, text, ann, done_stage="Doing")
    db.session.rollback()
    assert card_count() == 0
    result = import_history(board, text, ann, start_stage="doing", done_stage="Done")
    assert result.cards == 1


def test_stages_can_be_a_subset_of_the_boards_columns_in_order(simple):
    board, ann, _bob = simple
    import_history(board, csv_file("ID,Name,To do,Done", "1,One,2026-02-01,2026-02-03"), ann)
    db.session.commit()
    assert cards_of(board)[0].column.name == "Done"


def test_stage_count_marks_where_attributes_begin(app):
    ann = make.user("ann")
    result = import_history(None, csv_file(
        "ID,Name,Open,Doing,Closed,Team",
        "1,One,2026-02-01,2026-02-02,2026-02-03,Network",
    ), ann, board_key="CNT", board_name="Count", stage_count=3)
    assert result.stages == ["Open", "Doing", "Closed"]
    assert result.ignored_columns == ["Team"]


def test_historic_moves_pass_hard_limits_as_recorded_overrides(simple):
    board, ann, _bob = simple
    update_column(board, ann, make.column(board, "Doing"), wip_limit=1, wip_policy="hard")
    db.session.commit()
    result = import_history(board, csv_file(
        HEADER,
        "1,One,2026-02-01,2026-02-02,2026-02-05",
        "2,Two,2026-02-01,2026-02-03,2026-02-06",
    ), ann)
    db.session.commit()
    assert result.overrides == 1
    override = db.session.scalars(select(Event).where(Event.type == "wip.overridden")).one()
    assert override.at == datetime(2026, 2, 3)
    assert override.data["reason"].startswith("History import")
    doing = make.column(board, "Doing")
    db.session.refresh(doing)
    assert doing.wip_policy == "hard", "the limit is as strict as before"


# --- bad files: nothing written, every bad row reported ---------------------------------------


def rejected(board, text, actor, **options) -> list[tuple[int, str]]:
    seq, cards, events = board.last_seq, card_count(), event_count()
    with pytest.raises(ImportRejected) as refused:
        import_history(board, text, actor, **options)
    db.session.rollback()
    assert (card_count(), event_count()) == (cards, events), "nothing was written"
    assert db.session.get(Board, board.id).last_seq == seq
    return refused.value.problems


def test_every_bad_row_is_reported_with_its_line(simple):
    board, ann, _bob = simple
    problems = rejected(board, csv_file(
        HEADER,
        "1,Fine,2026-02-01,2026-02-02,2026-02-03",
        "2,Bad date,2026-02-01,01/02/2026,",
        "3,Backwards,2026-02-05,2026-02-02,",
        "1,Duplicate,2026-02-01,,",
        "5,Too few fields,2026-02-01",
        "",
        '6,"A name over',
        'two lines",2026-02-01,2026-02-30,',
        "7,,2026-02-01,,",
        "8,Never entered,,,",
        "9,Fine too,2026-02-01,,",
    ), ann)
    assert [line for line, _ in problems] == [3, 4, 5, 6, 8, 10, 11]
    reasons = dict(problems)
    assert "stage 'Doing': '01/02/2026' is not a date" in reasons[3]
    assert "dates go backwards across stages: 'Doing'" in reasons[4]
    assert "the ID '1' is used on line 2 already" in reasons[5]
    assert "has 3 fields; the header has 5" in reasons[6]
    assert "'2026-02-30' is not a date" in reasons[8]
    assert "the name cannot be empty" in reasons[10]
    assert "no stage has a date" in reasons[11]


def test_bad_attributes_are_bad_rows(simple):
    board, ann, _bob = simple
    problems = rejected(board, csv_file(
        "ID,Name,To do,Doing,Done,Lane,Blocked,Archived",
        "1,Unknown lane,2026-02-01,,,Nowhere,,",
        "2,Blocked before created,2026-02-05,,,,2026-02-01/2026-02-06 why,",
        "3,Blocked yes,2026-02-05,,,,yes,",
        "4,Archived before its move,2026-02-05,2026-02-07,,,,2026-02-06",
        "5,Overlapping,2026-02-01,,,,2026-02-02/2026-02-04 a | 2026-02-03/2026-02-05 b,",
    ), ann)
    reasons = dict(problems)
    assert list(reasons) == [2, 3, 4, 5, 6]
    assert "Lane: 'Nowhere' is not a lane of SIM" in reasons[2]
    assert "starts before the item entered the board" in reasons[3]
    assert "'yes' is not an interval" in reasons[4]
    assert "archived before its last move" in reasons[5]
    assert "intervals overlap" in reasons[6]


def test_unknown_and_misordered_stage_names_are_refused(simple):
    board, ann, _bob = simple
    problems = rejected(board, csv_file(
        "ID,Name,To do,Doign,Done,Reviewing",
        "1,One,2026-02-01,,,",
    ), ann)
    assert problems == [
        (1, "Stage 'Doign' is not a column of SIM (its columns: To do, Doing, Done)."),
        (1, "Stage 'Reviewing' is not a column of SIM (its columns: To do, Doing, Done)."),
    ]
    problems = rejected(board, csv_file("ID,Name,Done,Doing", "1,One,,2026-02-01"), ann)
    assert "comes after 'Done' in the file but before it on SIM" in problems[0][1]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"\n\n  \n", "The file is empty"),
        (HEADER.encode() + b"\n", "The file has a header but no rows"),
        (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "This is not a CSV file"),
        ("ID,Name,To do,Done\n1,Caf\u00e9,2026-01-01,\n".encode("latin-1"), "not UTF-8 text"),
        (b"x" * (50 * 1024 * 1024), "The file is 50.0 MB; a history import takes at most 2.0 MB"),
    ],
    ids=["empty", "blank lines", "header only", "binary", "latin-1", "50 MB"],
)
def test_files_that_are_not_history_are_refused_whole(simple, content, message):
    board, ann, _bob = simple
    with pytest.raises(Invalid, match=message):
        import_history(board, content, ann)
    db.session.rollback()
    assert card_count() == 0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("Dear team\nplease find the numbers attached.\n", "The header has 1 column(s)"),
        ('{"items": [{"id": 1, "name": "x", "todo": "2026-01-01"}]}\n{"id": 2}\n',
         "it needs ID, Name and at least two stages"),
        ("Key,Summary,Created,Resolved\nX-1,y,2026-01-01,\n",
         "The first column must be the item ID"),
        ("ID;Name;To do;Done\n1;x;2026-01-01;\n", "separated by commas"),
        ('ID,Name,To do,Done\n1,"never closed,2026-01-01,\n', "Not valid CSV"),
        ("ID,Name,To do,To Do,Done\n1,x,,,\n", "Stage 'To Do' appears twice"),
    ],
    ids=["prose", "json", "other columns", "semicolons", "open quote", "duplicate stage"],
)
def test_text_that_is_not_the_format_is_refused_with_a_sentence(app, content, problem):
    ann = make.user("ann")
    with pytest.raises(ImportRejected) as refused:
        import_history(None, content, ann, board_key="NEW", board_name="New")
    db.session.rollback()
    assert problem in refused.value.problems[0][1]
    assert db.session.scalar(select(func.count(Board.id))) == 0


def test_new_board_key_taken_writes_nothing(simple):
    _board, ann, _bob = simple
    with pytest.raises(Invalid, match="The key SIM is taken"):
        import_history(None, csv_file(HEADER, "1,x,2026-01-01,,"), ann, board_key="sim",
                       board_name="Again")
    db.session.rollback()
    assert db.session.scalar(select(func.count(Board.id))) == 1 and card_count() == 0


def test_only_owners_import(simple):
    board, _ann, bob = simple
    with pytest.raises(Exception, match="As a member of SIM you cannot manage it"):
        import_history(board, csv_file(HEADER, "1,x,2026-01-01,,"), bob)


# --- export and the round trip -----------------------------------------------------------------


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute)


def build_history(board, ann, bob):
    """A small history at fixed moments: forward moves, a skipped column, a blocked interval,
    a reopened card, an archived card and one still blocked."""
    todo, doing, done = (make.column(board, n) for n in ("To do", "Doing", "Done"))
    one = create_card(board, ann, title="Forward", type="incident", tags="vpn,remote", at=at(2))
    move_card(one, bob, column=doing, at=at(3))
    block_card(one, bob, "Waiting for user", at=at(3, 12))
    unblock_card(one, bob, at=at(4, 10))
    move_card(one, bob, column=done, at=at(5, 16, 30))
    two = create_card(board, ann, title="Skipper, with a comma", at=at(2, 11))
    move_card(two, bob, column=done, at=at(6))
    three = create_card(board, ann, title="Reopened", type="change", at=at(3, 8))
    move_card(three, bob, column=doing, at=at(4))
    move_card(three, bob, column=done, at=at(5))
    move_card(three, bob, column=doing, at=at(6, 10))
    move_card(three, bob, column=done, at=at(8, 15))
    four = create_card(board, ann, title="Duplicate", at=at(4, 9))
    archive_card(four, ann, at=at(4, 10))
    five = create_card(board, ann, title="Stuck", column=doing, at=at(7))
    block_card(five, bob, "Waiting for vendor", at=at(9))
    assert todo
    db.session.commit()


EXPECTED_EXPORT = """\
ID,Name,To do,Doing,Done,Type,Lane,Tags,Blocked,Archived,Moves
SIM-1,Forward,2026-11-02T09:00:00+00:00,2026-11-03T09:00:00+00:00,2026-11-05T16:30:00+00:00,\
incident,Standard,vpn|remote,2026-11-03T12:00:00+00:00/2026-11-04T10:00:00+00:00 Waiting for user,\
,2026-11-02T09:00:00+00:00 To do | 2026-11-03T09:00:00+00:00 Doing | \
2026-11-05T16:30:00+00:00 Done
SIM-2,"Skipper, with a comma",2026-11-02T11:00:00+00:00,,2026-11-06T09:00:00+00:00,,Standard,,,,\
2026-11-02T11:00:00+00:00 To do | 2026-11-06T09:00:00+00:00 Done
SIM-3,Reopened,2026-11-03T08:00:00+00:00,2026-11-04T09:00:00+00:00,2026-11-08T15:00:00+00:00,\
change,Standard,,,,2026-11-03T08:00:00+00:00 To do | 2026-11-04T09:00:00+00:00 Doing | \
2026-11-05T09:00:00+00:00 Done | 2026-11-06T10:00:00+00:00 Doing | 2026-11-08T15:00:00+00:00 Done
SIM-4,Duplicate,2026-11-04T09:00:00+00:00,,,,Standard,,,2026-11-04T10:00:00+00:00,\
2026-11-04T09:00:00+00:00 To do
SIM-5,Stuck,,2026-11-07T09:00:00+00:00,,,Standard,,2026-11-09T09:00:00+00:00/ Waiting for vendor,\
,2026-11-07T09:00:00+00:00 Doing
"""


def test_export_format(simple):
    board, ann, bob = simple
    build_history(board, ann, bob)
    assert export_history(board) == EXPECTED_EXPORT


def test_export_writes_times_on_the_boards_clock(simple):
    board, ann, _bob = simple
    update_board(board, ann, timezone="Europe/Paris")
    create_card(board, ann, title="One", at=datetime(2026, 7, 1, 22, 30))
    db.session.commit()
    line = export_history(board).splitlines()[1]
    assert line.startswith("SIM-1,One,2026-07-02T00:30:00+02:00,,,")


def flow_of(board) -> list[tuple]:
    """What the metrics read of each card: its dates, place and its flow events."""
    return [
        (c.title, c.type, c.tags, c.lane.name, c.column.name, c.created_at, c.started_at,
         c.finished_at, c.archived_at, c.blocked, c.blocked_reason, c.blocked_at,
         [(t, moment, column) for t, moment, column in events_of(c) if t != "wip.overridden"])
        for c in cards_of(board)
    ]


def metrics_of(board, now: datetime) -> str:
    from app.metrics.services import MetricsQuery, board_metrics

    report = board_metrics(board, MetricsQuery(date(2026, 10, 30), date(2026, 11, 12)), now=now)
    return json.dumps(report, sort_keys=True).replace(f'"{board.key}', '"BOARD')


def test_round_trip_into_a_new_board_keeps_the_history_and_the_metrics(simple):
    board, ann, bob = simple
    build_history(board, ann, bob)
    exported = export_history(board)

    result = import_history(None, exported, ann, board_key="COPY", board_name="Copy")
    db.session.commit()
    copy = result.board
    assert [(c.name, c.kind) for c in active_columns(copy)] == [
        (c.name, c.kind) for c in active_columns(board)
    ]
    assert flow_of(copy) == flow_of(board)
    assert export_history(copy) == exported.replace("SIM-", "COPY-")
    now = datetime(2026, 11, 12, 12, 0)
    assert metrics_of(copy, now) == metrics_of(board, now)


def test_round_trip_into_an_existing_board_with_the_same_columns(simple):
    board, ann, bob = simple
    build_history(board, ann, bob)
    other = make.board(ann, "simple", key="TWIN")
    import_history(other, export_history(board), ann)
    db.session.commit()
    assert flow_of(other) == flow_of(board)


def test_moves_column_must_agree_with_the_stage_cells(simple):
    board, ann, _bob = simple
    problems = rejected(board, csv_file(
        "ID,Name,To do,Doing,Done,Moves",
        "1,One,2026-02-01,2026-02-03,,2026-02-01 To do | 2026-02-02 Doing",
        "2,Two,2026-02-01,,,2026-02-01 To do | 2026-01-02 Doing",
        "3,Three,2026-02-01,,,2026-02-01 To do | 2026-02-02 Nowhere",
    ), ann)
    reasons = dict(problems)
    assert "the 'Doing' cell disagrees with the Moves column" in reasons[2]
    assert "goes back in time" in reasons[3]
    assert "'Nowhere' is not one of the file's stages" in reasons[4]


# --- command line ------------------------------------------------------------------------------


def test_cli_imports_into_a_board_and_exports_it_again(simple, runner, tmp_path):
    board, ann, _bob = simple
    source = tmp_path / "history.csv"
    source.write_text(csv_file(HEADER, "1,One,2026-02-01,2026-02-02,2026-02-03",
                               "2,Two,2026-02-01,,"))
    result = runner.invoke(args=["import-history", str(source), "--board", "sim"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Imported 2 item(s) into SIM (Test board): 4 events")
    assert card_count() == 2

    exported = runner.invoke(args=["export-history", "--board", "SIM"])
    assert exported.exit_code == 0
    assert exported.stdout.splitlines()[0] == (
        "ID,Name,To do,Doing,Done,Type,Lane,Tags,Blocked,Archived,Moves"
    )
    target = tmp_path / "out.csv"
    written = runner.invoke(args=["export-history", "--board", "SIM", "-o", str(target)])
    assert written.exit_code == 0
    assert written.stdout == f"Wrote the history of 2 card(s) of SIM to {target}.\n"
    assert target.read_text() == exported.stdout


def test_cli_creates_a_new_board_from_the_header(app, runner, tmp_path):
    make.user("ann")
    source = tmp_path / "history.csv"
    source.write_text(csv_file("ID,Name,Open,Ready,Fixing,Closed",
                               "1,One,2026-02-01,2026-02-02,2026-02-03,2026-02-04"))
    result = runner.invoke(args=[
        "import-history", str(source), "--new-board", "HIST", "--name", "History", "--as", "ann",
        "--start-stage", "Ready", "--queue-stage", "Ready", "--timezone", "Europe/Paris",
    ])
    assert result.exit_code == 0, result.output
    board = db.session.scalar(select(Board).where(Board.key == "HIST"))
    assert [c.kind for c in active_columns(board)] == ["backlog", "queue", "active", "done"]


def test_cli_rejection_prints_every_problem_and_writes_nothing(simple, runner, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text(csv_file(HEADER, "1,One,2026-02-01,nope,", "1,Again,2026-02-05,2026-02-01,"))
    result = runner.invoke(args=["import-history", str(source), "--board", "SIM"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: Nothing was imported: the file has 2 problems.",
        "  line 2: stage 'Doing': 'nope' is not a date (use 2026-11-01 or 2026-11-01T09:30)",
        "  line 3: the ID '1' is used on line 2 already; dates go backwards across stages: "
        "'Doing' (2026-02-01 00:00 UTC) is before 'To do' (2026-02-05 00:00 UTC)",
    ]
    assert card_count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--board", "NOPE"], "Error: There is no board NOPE.\n"),
        ([], "Error: Give either --board KEY (an existing board) or --new-board KEY --name "
             "NAME.\n"),
        (["--new-board", "NEW", "--name", "New"], "Error: Say who creates the new board with "
                                                  "--as USER.\n"),
        (["--board", "SIM", "--as", "bob"], "Error: bob is not an owner of SIM; name one with "
                                            "--as.\n"),
        (["--board", "SIM", "--as", "ghost"], "Error: There is no user 'ghost'.\n"),
    ],
)
def test_cli_usage_mistakes_get_a_sentence(simple, runner, tmp_path, args, message):
    source = tmp_path / "history.csv"
    source.write_text(csv_file(HEADER, "1,One,2026-02-01,,"))
    result = runner.invoke(args=["import-history", str(source), *args])
    assert result.exit_code == 1
    assert result.stderr == message
    assert card_count() == 0


def test_cli_refuses_a_huge_file_by_its_size(simple, runner, tmp_path):
    source = tmp_path / "huge.csv"
    with open(source, "wb") as stream:
        stream.truncate(50 * 1024 * 1024)
    result = runner.invoke(args=["import-history", str(source), "--board", "SIM"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: The file is 50.0 MB; a history import takes at most")
    missing = runner.invoke(args=["import-history", str(tmp_path / "gone.csv"), "--board", "SIM"])
    assert missing.exit_code == 1
    assert "Cannot read" in missing.stderr and "No such file" in missing.stderr


# --- the upload page ---------------------------------------------------------------------------


def upload(client, key, content: bytes, **fields):
    from io import BytesIO

    data = {"file": (BytesIO(content), "history.csv"), **fields}
    return client.post(f"/boards/{key}/import", data=data, content_type="multipart/form-data")


def test_upload_page_lists_every_bad_row(simple, login):
    client = login("ann")
    page = client.get("/boards/SIM/import")
    assert page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True)
    response = upload(client, "SIM", csv_file(HEADER, "1,One,2026-02-01,later,",
                                              "2,Two,2026-02-01,,", "2,Three,,,").encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was imported: the file has 2 problems." in html
    rows = html.replace("&#39;", "'")
    assert '<td class="num">2</td><td>stage \'Doing\': \'later\' is not a date' in rows
    assert '<td class="num">4</td><td>the ID \'2\' is used on line 3 already' in rows
    assert card_count() == 0


def test_upload_into_the_board_shows_a_summary(simple, login):
    client = login("ann")
    response = upload(client, "SIM", csv_file(HEADER, "1,One,2026-02-01,2026-02-02,").encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 card imported into" in html and 'href="/boards/SIM"' in html
    assert card_count() == 1


def test_upload_into_a_new_board(simple, login):
    client = login("ann")
    response = upload(
        client, "SIM", csv_file("ID,Name,Open,Waiting,Fixing,Closed",
                                "1,One,2026-02-01,2026-02-02,2026-02-03,2026-02-04").encode(),
        target="new", new_key="fresh", new_name="Fresh board", done_stage="Closed",
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert 'href="/boards/FRESH"' in response.get_data(as_text=True)
    board = db.session.scalar(select(Board).where(Board.key == "FRESH"))
    assert [c.kind for c in active_columns(board)] == ["backlog", "queue", "active", "done"]
    assert card_count() == 1 and cards_of(board)[0].finished_at == datetime(2026, 2, 4)


def test_upload_form_mistakes_are_sentences(simple, login):
    client = login("ann")
    no_file = client.post("/boards/SIM/import", data={}, content_type="multipart/form-data")
    assert no_file.status_code == 422
    assert "Choose a CSV file to import." in no_file.get_data(as_text=True)
    bad_count = upload(client, "SIM", csv_file(HEADER, "1,x,2026-01-01,,").encode(), stages="x")
    assert bad_count.status_code == 422
    assert "Number of stages must be a whole number" in bad_count.get_data(as_text=True)
    assert card_count() == 0


def test_upload_over_the_size_limit_is_refused_before_reading(simple, login):
    client = login("ann")
    response = client.post(  # raw bytes: the test client spools a multipart body to a file
        "/boards/SIM/import", data=b"x" * (MAX_IMPORT_BYTES + 10),
        content_type="multipart/form-data; boundary=edge",
    )
    assert response.status_code == 413
    assert "The file is larger than 2 MB" in response.get_data(as_text=True)


def test_import_page_is_for_owners_and_export_for_viewers(simple, login):
    board, ann, _bob = simple
    viewer = make.user("vic")
    make.member(board, viewer, "viewer")
    create_card(board, ann, title="Visible", at=datetime(2026, 1, 1))
    db.session.commit()
    client = login("bob")
    assert client.get("/boards/SIM/import").status_code == 403
    assert upload(client, "SIM", csv_file(HEADER, "1,x,2026-01-01,,").encode()).status_code == 403
    client.post("/logout")
    client = login("vic")
    response = client.get("/boards/SIM/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'attachment; filename="SIM-history-' in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True).splitlines()[1].startswith("SIM-1,Visible,")
    outsider = make.user("out")
    assert outsider
    client.post("/logout")
    client = login("out")
    assert client.get("/boards/SIM/export.csv").status_code == 404


def test_import_page_without_a_board_creates_one(app, login):
    make.user("ann")
    client = login("ann")
    page = client.get("/boards/import")
    assert page.status_code == 200 and "Into" not in page.get_data(as_text=True)
    from io import BytesIO

    made = client.post("/boards/import", content_type="multipart/form-data", data={
        "file": (BytesIO(csv_file(HEADER, "1,One,2026-02-01,2026-02-02,").encode()), "h.csv"),
        "new_key": "SOLO", "new_name": "Solo",
    })
    assert made.status_code == 200, made.get_data(as_text=True)[:1000]
    assert db.session.scalar(select(Board).where(Board.key == "SOLO")) is not None
    assert card_count() == 1


def test_exported_text_that_looks_like_a_formula_is_quoted_and_reimports_as_written(simple):
    """CSV injection: a spreadsheet must show =HYPERLINK(…) as text, not run it."""
    board, ann, _ = simple
    make.card(board, ann, '=HYPERLINK("http://evil.example","click")')
    make.card(board, ann, "+cmd|' /C calc'!A0")
    make.card(board, ann, "-2 degrees in the server room")
    text = export_history(board)
    rows = list(csv.reader(io.StringIO(text)))
    assert [row[1] for row in rows[1:]] == [
        "'=HYPERLINK(\"http://evil.example\",\"click\")", "'+cmd|' /C calc'!A0",
        "'-2 degrees in the server room"]
    assert [cells[1] for _, cells in read_rows(text)[1:]] == [
        '=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0",
        "-2 degrees in the server room"]
