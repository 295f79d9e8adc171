"""The ledger's lookups (what callers used to get by reading every row): the same answers on
SQLite and PostgreSQL."""

from decimal import Decimal

import pytest

import promptpaint as pp
from promptpaint.ledger import Attempt


@pytest.fixture
def book(ledger_at):
    """The ledger PROMPTPAINT_LEDGER names: a SQLite file, then a PostgreSQL ledger."""
    return pp.ledger()


def booked(book, prompt: str, images: list[str], cost: str, **params) -> int:
    row = book.reserve(Attempt("offline", "offline", "generate", prompt, params, None), Decimal("0.5"), [])
    book.settle(row, status="ok", cost=Decimal(cost), images=images, request_id=f"req-{prompt}")
    return row


def test_image_origin_is_the_newest_call_that_made_the_image(book):
    a, b = "a" * 64, "b" * 64
    booked(book, "a fox", [a], "0.25", seed=7)
    newer = booked(book, "a fox again", [b, a], "0.125", seed=8)
    booked(book, "a heron", ["c" * 64], "0.5")
    found = book.image_origin(a)
    assert (found["id"], found["prompt"], found["params"], found["cost"], found["request_id"]) == \
        (newer, "a fox again", {"seed": 8}, Decimal("0.125"), "req-a fox again")
    assert book.image_origin(b)["id"] == newer


def test_image_origin_finds_nothing_for_an_unknown_or_non_hex_id(book):
    booked(book, "a fox", ["a" * 64], "0.25")
    assert book.image_origin("d" * 64) is None
    assert book.image_origin("a" * 63 + "%") is None  # never a LIKE pattern
    assert book.image_origin("%") is None


def test_provenance_finds_a_picture_by_its_bytes_in_the_ledger(book, tmp_path):
    r = pp.Client("offline", ledger=book).generate("a lighthouse", seed=3)
    copy = tmp_path / "copy.png"
    copy.write_bytes(r.paths[0].read_bytes())  # no chunks, no sidecar: only the ledger knows it
    story = pp.provenance(copy)
    assert (story["prompt"], story["ledger_id"], story["found_in"]) == ("a lighthouse", r.ledger_id, "ledger")
