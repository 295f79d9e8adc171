"""The offline stand-in: the whole workflow with no key, no network, $0."""

import numpy as np
import pytest
from PIL import Image

import promptpaint as pp


def test_no_key_means_offline_and_it_says_so(monkeypatch):
    import promptpaint.client as client_mod
    monkeypatch.setattr(client_mod, "_offline_notice_shown", False)
    with pytest.warns(pp.OfflineNotice):
        c = pp.Client()
    assert c.provider_name == "offline"


def test_offline_generate_is_deterministic_sized_and_stored_and_free():
    c = pp.Client("offline")
    a = c.generate("a red fox in snow", seed=7, size="768x512")
    b = c.generate("a red fox in snow", seed=7, size="768x512")
    other = c.generate("a blue whale", seed=7, size="768x512")
    assert a.images[0].size == (768, 512)
    assert a.ids == b.ids and a.ids != other.ids
    assert a.paths[0].exists() and a.paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert a.cost == 0 and a.offline
    row = pp.ledger().entries(1)[0]
    assert row["provider"] == "offline" and row["status"] == "ok" and row["cost"] == 0


def test_offline_masked_edit_changes_only_the_masked_area():
    c = pp.Client("offline")
    src = c.generate("a lighthouse", seed=1).image
    mask = np.zeros((512, 512), dtype=np.uint8)
    mask[100:300, 50:200] = 255
    out = c.edit("make it night", image=src, mask=mask).image
    a, b = np.asarray(src.convert("RGB")), np.asarray(out.convert("RGB"))
    changed = (a != b).any(axis=-1)
    assert not changed[mask == 0].any()
    assert changed[mask == 255].mean() > 0.5


def test_offline_chat_keeps_editing_the_last_image():
    chat = pp.Client("offline").chat()
    first = chat.send("a cat on a sofa")
    second = chat.send("now at night")
    assert second.kind == "chat" and second.ids != first.ids
    assert len(chat) == 2
    branch = chat.branch(0)
    third = branch.send("in daylight")
    assert len(branch) == 2 and third.ids != second.ids


def test_cache_answers_an_identical_request_for_free():
    c = pp.Client("offline", cache=True)
    a = c.generate("a cached fox", seed=1)
    b = c.generate("a cached fox", seed=1)
    assert b.cached and not a.cached and b.ids == a.ids
    assert pp.ledger().entries(1)[0]["status"] == "cached"


def test_empty_prompt_and_empty_mask_get_clear_errors():
    c = pp.Client("offline")
    with pytest.raises(pp.InvalidRequest, match="prompt is empty"):
        c.generate("   ")
    img = Image.new("RGB", (32, 32))
    with pytest.raises(pp.InvalidRequest, match="mask is empty"):
        c.edit("x", image=img, mask=np.zeros((32, 32), dtype=np.uint8))
    with pytest.raises(pp.InvalidRequest, match="not an image"):
        c.edit("x", image=b"definitely not a picture")
