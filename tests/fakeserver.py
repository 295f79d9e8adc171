"""Moved to tests/fakes/ (one module per provider); this re-export stays for one release."""
from fakes import *  # noqa: F401,F403
from fakes.wire import Answer as _Answer, CaseInsensitiveDict, RecordedRequest  # noqa: F401
