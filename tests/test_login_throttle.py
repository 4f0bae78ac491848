"""Login throttling: repeated failures for an account, or from an address, make further tries
wait and then refuse them, with a sentence on the page; the same whether the account exists."""

from datetime import timedelta

from sqlalchemy import update

from app.accounts.throttle import FREE, LoginFailures
from app.clock import utcnow
from app.extensions import db
from tests import factories as make


def try_login(client, username, password="wrong-horse", address="10.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def waits_over():
    db.session.execute(update(LoginFailures).values(blocked_until=utcnow() - timedelta(1)))
    db.session.commit()


def test_failures_for_an_account_make_it_wait_even_with_the_right_password(client, simple):
    for _ in range(FREE["account"]):
        assert try_login(client, "ann").status_code == 401
    assert try_login(client, "ann").status_code == 401  # the first over the limit still counts
    refused = try_login(client, "ann", make.PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed logins for this account or from this address; try again in" \
        in text(refused)
    assert 1 <= int(refused.headers["Retry-After"]) <= 15
    waits_over()
    assert try_login(client, "ann", make.PASSWORD).status_code == 302


def test_the_waits_double_and_end_in_a_quarter_hour_refusal(client, simple):
    waits = []
    for _ in range(FREE["account"] + 8):
        waits_over()  # so that every try below is counted, not refused
        assert try_login(client, "ann").status_code == 401
        db.session.expire_all()
        blocked = db.session.get(LoginFailures, "account:ann").blocked_until
        if blocked is not None and blocked > utcnow():
            waits.append(round((blocked - utcnow()).total_seconds()))
    assert waits == [15, 30, 60, 120, 240, 480, 900, 900]


def test_an_unknown_account_is_answered_like_a_known_one(client, simple):
    for name in ("ann", "nobody"):
        for _ in range(FREE["account"] + 1):
            assert "That username and password do not match." in text(try_login(client, name))
        assert try_login(client, name).status_code == 429


def test_many_failures_from_one_address_refuse_every_account_from_it(client, simple):
    for number in range(FREE["address"] + 1):
        try_login(client, f"guess{number}", address="203.0.113.9")
    assert try_login(client, "bob", make.PASSWORD, address="203.0.113.9").status_code == 429
    assert try_login(client, "bob", make.PASSWORD, address="198.51.100.7").status_code == 302


def test_a_good_login_forgets_the_accounts_failures(client, simple):
    for _ in range(FREE["account"] - 1):
        try_login(client, "ann")
    assert try_login(client, "ann", make.PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(FREE["account"]):
        assert try_login(client, "ann").status_code == 401  # counting from zero again
