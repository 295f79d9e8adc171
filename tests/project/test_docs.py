"""help(pp.Client) explains every argument, the way requests documents Session."""

import inspect
import pydoc

import promptpaint as pp


def test_help_of_client_explains_every_argument():
    doc = pydoc.render_doc(pp.Client, renderer=pydoc.plaintext)
    params = [p for p in inspect.signature(pp.Client).parameters]
    assert params and "budget" in params
    for name in params:
        assert f":param {name}:" in doc, f"help(pp.Client) does not explain {name}="
    assert "Default" in doc and ">>> client = pp.Client(" in doc
