"""A ledger URL that carries its password in the query (``?password=``, which libpq accepts) never
shows it: not in ``repr(pp.ledger())``, a LedgerError, the CLI or the widget's error card."""

from __future__ import annotations

import os
import traceback
import urllib.parse

import pytest

import promptpaint as pp
from pgserver import admin, pg_db, pg_server, tcp_url  # noqa: F401  (fixtures)
from promptpaint.cli import main
from promptpaint.errors import LedgerError
from promptpaint.ledger.postgres import PostgresLedger, describe
from promptpaint.studio.errorcard import error_state


def test_describe_hides_a_password_in_the_userinfo_or_the_query():
    assert "s3cret-pw" not in describe("postgresql://kernel:s3cret-pw@db.example/course")
    shown = describe("postgresql://kernel@db.example/course?sslmode=require&password=s3cret-pw&host=%2Ftmp")
    assert shown == "postgresql://kernel@db.example/course?sslmode=require&password=[credentials]&host=%2Ftmp" \
        or shown == "postgresql://[credentials]@db.example/course?sslmode=require&password=[credentials]&host=%2Ftmp"
    assert "hunter2" not in describe("postgres://db/x?sslpassword=hunter2#frag")
    assert describe("postgresql://db/x?host=%2Ftmp&port=5432") == "postgresql://db/x?host=%2Ftmp&port=5432"


@pytest.fixture
def query_password_url(pg_server, pg_db):
    url, name = pg_db
    owner = PostgresLedger(url, check=False)
    owner.init()
    role, password = f"kq_{name}", f"Qpw-{name[3:]}-x7"
    with admin(pg_server) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    owner.grant(role)
    owner.close()
    base = tcp_url(pg_server, name, role, None)
    try:
        yield base, password
    finally:
        with admin(url) as conn:
            conn.execute(f"DROP OWNED BY {role}")
        with admin(pg_server) as conn:
            conn.execute(f"DROP ROLE {role}")


def test_a_query_password_is_never_shown(query_password_url, monkeypatch, capsys):
    base, password = query_password_url
    good = f"{base}?password={urllib.parse.quote(password)}"
    monkeypatch.setenv("PROMPTPAINT_LEDGER", good)
    led = pp.ledger()
    assert password not in repr(led) and "[credentials]" in repr(led) and led.total() == 0
    assert main(["cost"]) == 0 and password not in capsys.readouterr().out
    wrong = "Wr0ng-query-pass"
    bad = f"{base}?sslmode=disable&password={wrong}"
    monkeypatch.setenv("PROMPTPAINT_LEDGER", bad)
    with pytest.raises(LedgerError) as exc:
        pp.ledger().total()
    text = "".join(traceback.format_exception(exc.value)) + repr(exc.value.args) + str(exc.value)
    # Every promptpaint frame's locals, as a verbose traceback (IPython's) would print them.
    package = os.path.dirname(pp.__file__) + os.sep
    stack = traceback.TracebackException.from_exception(exc.value, capture_locals=True).stack
    ours = [f.locals for f in stack if f.filename.startswith(package)]
    assert ours and any("where" in loc or "url" in loc or "self" in loc for loc in ours)
    text += repr(ours)
    assert "password authentication failed" in text and wrong not in text
    card = error_state(exc.value)
    assert wrong not in repr(card) and "password authentication failed" in card["message"]
    assert main(["cost", "--by", "user"]) == 1
    err = capsys.readouterr().err
    assert "password authentication failed" in err and wrong not in err
