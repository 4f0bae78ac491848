"""Command line: create-user and create-token, as an administrator would run them."""

from sqlalchemy import func, select

from app.accounts.models import ApiToken, User
from app.accounts.services import authenticate, user_for_token
from app.extensions import db
from tests import factories as make


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_create_user_makes_an_account_that_can_log_in(runner):
    result = runner.invoke(
        args=["create-user", "Alice", "--password", "long-enough", "--name", "Alice Liddell"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "Created user alice.\n"
    alice = authenticate("alice", "long-enough")
    assert alice is not None
    assert alice.display_name == "Alice Liddell" and not alice.is_admin
    assert authenticate("alice", "wrong-password") is None


def test_create_user_admin_flag(runner):
    result = runner.invoke(args=["create-user", "root", "--password", "long-enough", "--admin"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "Created user root (admin).\n"
    assert authenticate("root", "long-enough").is_admin


def test_duplicate_user_fails_with_a_sentence_and_changes_nothing(runner):
    make.user("alice")
    result = runner.invoke(args=["create-user", "alice", "--password", "another-one"])
    assert result.exit_code == 1
    assert result.stderr == "Error: The username alice is taken.\n"
    assert result.stdout == ""
    assert user_count() == 1
    assert authenticate("alice", make.PASSWORD) is not None, "the old password still works"


def test_short_password_is_refused(runner):
    result = runner.invoke(args=["create-user", "alice", "--password", "short"])
    assert result.exit_code == 1
    assert result.stderr == "Error: Password must be at least 8 characters.\n"
    assert user_count() == 0


def test_bad_username_is_refused(runner):
    result = runner.invoke(args=["create-user", "a b", "--password", "long-enough"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Username must be 2 to 40 lower-case letters")
    assert user_count() == 0


def test_create_user_without_password_is_a_usage_error(runner):
    result = runner.invoke(args=["create-user", "alice"])
    assert result.exit_code == 2
    assert "--password" in result.output
    assert user_count() == 0


def test_create_token_prints_only_a_token_that_authenticates(runner):
    alice = make.user("alice")
    result = runner.invoke(args=["create-token", "alice", "--name", "ci pipeline"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and result.stderr == ""
    token = lines[0]
    assert token.startswith("sb_") and len(token) > 20 and " " not in token
    assert user_for_token(token) == alice
    assert user_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    record = db.session.scalars(select(ApiToken)).one()
    assert record.name == "ci pipeline"
    assert token not in (record.token_hash, record.prefix), "only a digest is stored"


def test_each_token_is_new(runner):
    make.user("alice")
    first = runner.invoke(args=["create-token", "alice"]).stdout.strip()
    second = runner.invoke(args=["create-token", "alice"]).stdout.strip()
    assert first != second
    assert user_for_token(first) is not None and user_for_token(second) is not None


def test_create_token_for_unknown_user_fails_with_a_sentence(runner):
    result = runner.invoke(args=["create-token", "ghost"])
    assert result.exit_code == 1
    assert result.stderr == "Error: There is no user 'ghost'.\n"
    assert result.stdout == ""
    assert db.session.scalar(select(func.count(ApiToken.id))) == 0


def test_create_team_of_existing_users(runner):
    from app.accounts.models import Team

    runner.invoke(args=["create-user", "tia", "--password", "long-enough"])
    runner.invoke(args=["create-user", "tom", "--password", "long-enough"])
    result = runner.invoke(args=["create-team", "Network", "tia", "tom"])
    assert result.exit_code == 0, result.output
    assert "2 member(s)" in result.output
    team = db.session.scalar(select(Team).where(Team.name == "Network"))
    assert sorted(m.user.username for m in team.members) == ["tia", "tom"]
    unknown = runner.invoke(args=["create-team", "Ghosts", "nobody"])
    assert unknown.exit_code == 1
    assert "no user" in unknown.output
