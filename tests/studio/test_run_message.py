"""A run message from the front end carries the prompt on screen (see docs/widget-protocol.md)."""

import promptpaint as pp
from helpers import Front


def test_a_run_uses_the_prompt_it_carries_even_if_the_trait_update_comes_later():
    # marimo posts the prompt's trait update and the run message separately; they may arrive in
    # either order. The run carries the text that was on screen, so the call uses it.
    studio = pp.Studio("offline")
    front = Front(studio)
    studio.prompt = "an old prompt"
    front.msg({"kind": "run", "action": "generate", "prompt": "a red fox in snow"})
    front.wait()
    assert studio.prompt == "a red fox in snow"
    assert pp.ledger().entries(1)[0]["prompt"] == "a red fox in snow"
    assert studio.history[-1].prompt == "a red fox in snow"
    studio.set_state({"prompt": "a red fox in snow"})  # the late update changes nothing
    assert studio.prompt == "a red fox in snow"
