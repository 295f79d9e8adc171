"""The version is written once, in pyproject.toml; the package reports the installed metadata."""

import re

import promptpaint as pp
from helpers import ROOT



def test_version_comes_from_the_package_metadata():
    written = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert pp.__version__ == written
    literal = re.compile(r"""["']""" + re.escape(written) + r"""["']""")  # "0.1.0" as a value, not in prose
    sources = [p for p in (ROOT / "src").rglob("*.py") if literal.search(p.read_text())]
    assert sources == [], f"the version is written again in {sources}"
