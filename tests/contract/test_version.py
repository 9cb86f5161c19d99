"""The package version the API reports is the release in pyproject.toml."""

import tomllib

from shared import __version__
from tools.template import ROOT


def test_version_matches_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert __version__ == project["version"]
