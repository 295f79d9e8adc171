"""How a kernel gives the ledger its password: in the URL (``user:pw@`` or ``?password=``, which
libpq accepts), in PGPASSWORD, or in a .pgpass file. Each works, and the password never shows: not
in ``repr(pp.ledger())``, a LedgerError (args, traceback, the locals of our frames), the CLI or the
widget's error card."""

from __future__ import annotations

import os
import traceback
import urllib.parse
from decimal import Decimal as D

import pytest

import promptpaint as pp
from ledgerkit import attempt
from pgserver import tcp_url
from promptpaint.cli import main
from promptpaint.errors import LedgerError
from promptpaint.ledger import _ledgers
from promptpaint.ledger.postgres import PostgresLedger, describe
from promptpaint.studio.errorcard import error_state


def test_describe_hides_a_password_in_the_userinfo_or_the_query():
    assert "s3cret-pw" not in describe("postgresql://kernel:s3cret-pw@db.example/course")
    shown = describe("postgresql://kernel@db.example/course?sslmode=require&password=s3cret-pw&host=%2Ftmp")
    assert shown == "postgresql://kernel@db.example/course?sslmode=require&password=[credentials]&host=%2Ftmp" \
        or shown == "postgresql://[credentials]@db.example/course?sslmode=require&password=[credentials]&host=%2Ftmp"
    assert "hunter2" not in describe("postgres://db/x?sslpassword=hunter2#frag")
    assert describe("postgresql://db/x?host=%2Ftmp&port=5432") == "postgresql://db/x?host=%2Ftmp&port=5432"


WRONG = "Tr0ub4dor&3-wrong"


def ledger_url(base: str, carrier: str, password: str, monkeypatch) -> str:
    """The URL that names the ledger with ``password`` carried as ``carrier`` says."""
    if carrier == "PGPASSWORD":
        monkeypatch.setenv("PGPASSWORD", password)
        return base
    monkeypatch.delenv("PGPASSWORD", raising=False)
    quoted = urllib.parse.quote(password, safe="")
    if carrier == "userinfo":
        return base.replace("@", f":{quoted}@", 1)
    return f"{base}?sslmode=disable&password={quoted}"


@pytest.mark.parametrize("carrier", ["userinfo", "query", "PGPASSWORD"])
def test_a_password_works_and_a_wrong_one_fails_clearly_and_is_never_shown(pg_server, pg_ledger, pg_role, carrier,
                                                                           monkeypatch, capsys):
    _, name = pg_ledger
    role, password = pg_role(grant=True)
    base = tcp_url(pg_server, name, role, None)
    monkeypatch.setenv("PROMPTPAINT_LEDGER", ledger_url(base, carrier, password, monkeypatch))
    led = pp.ledger()
    assert password not in repr(led) and led.total() == 0
    if carrier != "PGPASSWORD":
        assert "[credentials]" in repr(led)
    assert main(["cost"]) == 0 and password not in capsys.readouterr().out
    _ledgers.pop(os.environ["PROMPTPAINT_LEDGER"]).close()  # a fresh kernel (PGPASSWORD: the URL is the same)

    monkeypatch.setenv("PROMPTPAINT_LEDGER", ledger_url(base, carrier, WRONG, monkeypatch))
    secrets = (WRONG, urllib.parse.quote(WRONG, safe=""), "Tr0ub4dor")
    for fails in (lambda: pp.Client("offline"), lambda: pp.ledger().total()):
        with pytest.raises(LedgerError) as exc:
            fails()
        # Every promptpaint frame's locals, as a verbose traceback (IPython's) would print them.
        stack = traceback.TracebackException.from_exception(exc.value, capture_locals=True).stack
        package = os.path.dirname(pp.__file__) + os.sep  # not the clone's folder, which may share the name
        ours = [f.locals for f in stack if f.filename.startswith(package)]
        assert len(ours) >= 3 and any("where" in loc or "url" in loc for loc in ours)
        shown = repr(ours) + repr(exc.value.args) + "".join(traceback.format_exception(exc.value)) + str(exc.value)
        assert "password authentication failed" in shown and role in shown
        assert not any(secret in shown for secret in secrets)
        assert exc.value.__cause__ is None and exc.value.__context__ is None
        card = error_state(exc.value)
        assert "password authentication failed" in card["message"]
        assert not any(secret in repr(card) for secret in secrets)
    assert main(["cost", "--by", "user"]) == 1
    err = capsys.readouterr().err
    assert "password authentication failed" in err and "PGPASSWORD" in err
    assert not any(secret in err for secret in secrets)


def test_a_pgpass_file_works_as_libpq_reads_it(pg_server, pg_db, pg_role, monkeypatch, tmp_path):
    url, name = pg_db
    role, password = pg_role()
    assert main(["ledger", "init", url]) == 0 and main(["ledger", "grant", url, role]) == 0
    port = tcp_url(pg_server, name, "x", None).rsplit(":", 1)[1].split("/")[0]
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{port}:{name}:{role}:{password}\n")
    pgpass.chmod(0o600)  # libpq ignores a .pgpass others can read
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    kernel = PostgresLedger(tcp_url(pg_server, name, role, None))
    kernel.settle(kernel.reserve(attempt(), D("0.10"), []), status="ok", cost=D("0.03"))
    assert kernel.total() == D("0.03")
    kernel.close()
