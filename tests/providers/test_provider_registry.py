"""One home per provider: the rest of the package reads provider facts from the provider classes."""

import promptpaint as pp
from promptpaint import codegen, config, providers
from promptpaint.cli import build_parser


def test_every_registered_class_carries_its_facts():
    for name in providers.NAMES:
        cls = providers.provider_class(name)
        assert cls.name == name and cls.label
        if not cls.offline:
            assert cls.key_env and cls.base_url_env and cls.default_base_url.startswith("https://")
            assert cls.key_placeholder in codegen.KEY_VARS


def test_tables_elsewhere_are_read_from_the_classes():
    classes = providers.all_providers()
    assert dict(config.KEY_ENV) == {c.name: c.key_env for c in classes if c.key_env}
    assert dict(config.BASE_URL_ENV) == {c.name: c.base_url_env for c in classes if c.base_url_env}
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    generate = sub.choices["generate"]
    [provider_flag] = [a for a in generate._actions if "--provider" in a.option_strings]
    assert list(provider_flag.choices) == list(providers.NAMES)


def test_an_unknown_provider_names_the_registered_ones():
    try:
        pp.Client("acme")
    except pp.InvalidRequest as exc:
        assert all(repr(n) in exc.message for n in providers.NAMES)
    else:
        raise AssertionError("no error")


def test_the_key_order_is_the_registry_order(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai-0123456789abcdef")
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-test-gemini-0123456789abcdef")
    assert pp.Client().provider_name == providers.NAMES[0] == "gemini"
