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
