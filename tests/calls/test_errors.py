"""One family: every error and warning promptpaint raises, catchable as the builtin it resembles."""

import warnings

import pytest

import promptpaint as pp
from promptpaint import errors


@pytest.mark.parametrize("cls, builtin", [(pp.InvalidRequest, ValueError), (pp.Timeout, TimeoutError),
                                          (pp.AuthError, PermissionError), (pp.AccessError, PermissionError)])
def test_errors_are_also_the_builtin_they_resemble(cls, builtin):
    with pytest.raises(builtin) as exc:
        raise cls("what went wrong", provider="offline")
    assert isinstance(exc.value, pp.PromptpaintError) and str(exc.value).startswith("what went wrong")
    assert exc.value.args == ("what went wrong",)


def test_every_error_declares_cost_usage_and_retryable():
    e = pp.ProviderError("down")
    assert e.cost is None and e.usage is None and e.retryable is True and e.maybe_billed is False
    assert not pp.QuotaExceeded("x").retryable and not pp.Refused("x").retryable
    assert not pp.BudgetExceeded("x").retryable


def test_every_warning_shares_one_base_and_old_import_paths_still_work():
    from promptpaint.client import LedgerWarning, OfflineNotice
    from promptpaint.imagemeta import ProvenanceNotice
    from promptpaint.ledger import LedgerError
    from promptpaint.pricing import Unbounded, UntrustedUsage

    assert (LedgerWarning, OfflineNotice, ProvenanceNotice) == (
        errors.LedgerWarning, errors.OfflineNotice, errors.ProvenanceNotice)
    assert LedgerError is pp.LedgerError is errors.LedgerError
    assert Unbounded is errors.Unbounded and UntrustedUsage is errors.UntrustedUsage
    for name in ("ShutdownWarning", "UnknownPriceWarning", "LedgerWarning", "OfflineNotice", "ProvenanceNotice"):
        assert issubclass(getattr(errors, name), errors.PromptpaintWarning)
    assert issubclass(errors.PromptpaintWarning, UserWarning)


def test_one_filter_silences_every_promptpaint_warning():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=pp.PromptpaintWarning)
        warnings.warn("offline", pp.OfflineNotice)
        warnings.warn("ledger", pp.LedgerWarning)
    assert seen == []


def test_an_auth_error_from_a_provider_names_it_in_the_hint():
    e = pp.AuthError("The key was rejected.", provider="gemini")
    assert "gemini API key" in e.hint and e.hint in str(e)
    assert pp.AuthError("x", hint="Set MY_KEY.").hint == "Set MY_KEY."



# InvalidRequest being a ValueError, a clause that catches ValueError to word a malformed value
# would swallow a precise refusal: session.choose_params (studio/session.py on the studio branch)
# lets InvalidRequest through first.
def test_a_studio_setting_the_model_refuses_keeps_the_registrys_words():
    from promptpaint.session import Session

    s = Session("offline")
    name = next(iter(s.client().model.params))
    with pytest.raises(pp.InvalidRequest) as exc:
        s.choose_params({name: "no-such-value-xyz"})
    assert "wrong kind" not in str(exc.value) and "no-such-value-xyz" in str(exc.value)
