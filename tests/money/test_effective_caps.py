"""The teacher's report shows each student's effective caps (own or ``user:*``, all time and per
day) with what is left, and the class's caps with what is left of them."""

from decimal import Decimal as D

from promptpaint.ledger import Attempt, SQLiteLedger
from promptpaint.ledger.effective import by_user


def booked(led, user, reserve, cost):
    row = led.reserve(Attempt("openai", "gpt-image-2", "generate", "p", {}, None, user=user), D(reserve), [])
    if cost != "open":
        led.settle(row, status="ok", cost=None if cost is None else D(cost))


def test_each_students_effective_caps_and_the_class(tmp_path):
    led = SQLiteLedger(tmp_path / "class.sqlite3")
    led.set_budget("user:*", "1.00")
    led.set_budget("user:*", "0.30", per="day")
    led.set_budget("user:bob", "0.50")
    led.set_budget("class", "10")
    booked(led, "alice", "0.10", "0.04")
    booked(led, "alice", "0.10", None)      # unknown: counts at its reservation
    booked(led, "bob", "0.20", "open")      # running
    rows, klass = by_user(led)
    alice, bob = rows
    assert (alice["cap_scope"], alice["cap"], alice["left"]) == ("user:*", D("1.00"), D("0.86"))
    assert (alice["day_cap_scope"], alice["day_cap"], alice["day_left"]) == ("user:*", D("0.30"), D("0.16"))
    assert (bob["cap_scope"], bob["cap"], bob["left"]) == ("user:bob", D("0.50"), D("0.30"))
    assert (bob["day_cap"], bob["day_left"]) == (D("0.30"), D("0.10"))
    assert klass["cap"] == D("10") and klass["left"] == D("10") - D("0.34") and klass["day_cap"] is None


def test_cost_by_user_prints_them(tmp_path, monkeypatch, capsys):
    from promptpaint.cli import main

    where = tmp_path / "class.sqlite3"
    led = SQLiteLedger(where)
    led.set_budget("user:*", "1.00")
    led.set_budget("class", "10")
    booked(led, "alice", "0.10", "0.04")
    monkeypatch.setenv("PROMPTPAINT_LEDGER", str(where))
    assert main(["cost", "--by", "user"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:3] == ["alice", "1", "$0.04"] and "$1.00 user:*" in out[1] and "$0.96" in out[1]
    assert out[-1] == "class: $0.04 counted against caps; cap $10.00, $9.96 left"


def test_cost_last_shows_row_ids_and_users(tmp_path, monkeypatch, capsys):
    from promptpaint.cli import main

    where = tmp_path / "class.sqlite3"
    led = SQLiteLedger(where)
    booked(led, "alice", "0.10", "0.04")
    booked(led, "bob", "0.20", "open")
    monkeypatch.setenv("PROMPTPAINT_LEDGER", str(where))
    assert main(["cost", "--last", "2"]) == 0
    last = [line.split() for line in capsys.readouterr().out.splitlines()[-2:]]
    assert [(x[0], x[2]) for x in last] == [("#2", "bob"), ("#1", "alice")]  # the id, the time, the user
