import sys

import pytest

from promptpaint.sse import Event, events


def test_events_split_across_chunks_and_line_endings():
    raw = (b"event: a\r\ndata: {\"x\":\r\ndata: 1}\r\n\r\n"
           b": a comment\n\nevent: b\rdata: two\r\r"
           b"data: no name\n\n")
    for size in (1, 2, 3, 7, len(raw)):
        chunks = [raw[i:i + size] for i in range(0, len(raw), size)]
        assert list(events(chunks)) == [Event("a", '{"x":\n1}'), Event("b", "two"), Event(None, "no name")]


def test_an_event_cut_off_before_its_blank_line_is_dropped():
    assert list(events([b"data: whole\n\ndata: half"])) == [Event(None, "whole")]


def test_many_events_in_one_chunk_as_a_close_delimited_stream_hands_them_over():
    body = b"".join(b'data: {"i": %d}\r\n\r\n' % i for i in range(20_000))
    got = list(events([body]))
    assert len(got) == 20_000 and got[-1].data == '{"i": 19999}'
    assert list(events([body[i:i + 4096] for i in range(0, len(body), 4096)])) == got


def test_a_line_longer_than_the_limit_is_dropped_as_it_arrives_and_the_stream_goes_on():
    chunks = [b"event: big\ndata: "] + [b"A" * 1000] * 50 + [b"\n\nevent: small\ndata: ok\n\n"]
    got = list(events(chunks, max_line=10_000))
    assert got == [Event("big", "", None, skipped=50_006), Event("small", "ok")]


def test_invalid_utf8_is_replaced_not_raised():
    assert list(events([b"data: caf\xe9 \xff\n\n"])) == [Event(None, "caf\ufffd \ufffd")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_200_mb_line_is_never_held_whole():
    """RSS measured in a subprocess: a 200 MB preview line took ~1 GB before; now at most MAX_LINE."""
    import subprocess
    import textwrap

    code = textwrap.dedent("""
        from promptpaint.sse import MAX_LINE, events
        def hwm():  # this process's own peak RSS (ru_maxrss would carry pytest's over exec)
            for line in open("/proc/self/status"):
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        base = hwm()
        mb = b"A" * 2**20
        def chunks():
            yield b"event: image_generation.partial_image\\ndata: "
            for _ in range(200):
                yield mb
            yield b"\\n\\ndata: after\\n\\n"
        got = list(events(chunks()))
        assert [e.data for e in got] == ["", "after"] and got[0].skipped > 200 * 2**20, got
        grew = hwm() - base
        print(grew, MAX_LINE)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    grew, limit = map(int, out.stdout.split())
    assert grew < limit + 64 * 2**20, f"peak grew {grew / 2**20:.0f} MB for a 200 MB line"


def test_any_cut_of_the_bytes_gives_the_same_events():
    import random

    rng = random.Random(19)
    raw = b"".join(rng.choice([b"data: a\r\n", b"data: bb\n", b"event: e\r", b": c\n", b"\r\n", b"\n", b"\r",
                               b"data: caf\xc3\xa9\r\n", b"id: 7\n"]) for _ in range(3000)) + b"\n\n"
    import re

    whole = list(events([raw]))
    assert whole == list(events([b"\n".join(re.split(rb"\r\n|\r|\n", raw))]))  # CR, LF, CRLF all one end
    assert len(whole) > 100
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(raw)), 200))
        chunks = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)])]
        assert list(events(chunks)) == whole
