"""The committed files derived from template.yaml are what ``make openapi`` makes of it now.

(``openapi.json`` itself is checked by test_openapi.py.)
"""

from pathlib import Path

import pytest

from tools.derived import ARCHITECTURE, KNOWN_ROUTES, TABLE_END, TABLE_START, rendered, with_functions_table
from tools.jwt_api import TEMPLATE
from tools.template import ROOT


@pytest.fixture(scope="module")
def generated() -> dict[Path, str]:
    """What the generator renders from template.yaml (and the routers) now."""
    return rendered()


@pytest.mark.parametrize("path", [KNOWN_ROUTES, ARCHITECTURE, TEMPLATE], ids=lambda path: str(path.relative_to(ROOT)))
def test_a_derived_file_is_what_the_generator_makes_now(path: Path, generated: dict[Path, str]) -> None:
    # Given the committed file
    committed = path.read_text(encoding="utf-8")

    # When it is compared with what the generator renders from template.yaml now

    # Then nothing was edited by hand or left stale
    assert committed == generated[path], f"{path.relative_to(ROOT)} is stale: run `make openapi` and commit it"


def test_the_functions_table_replaces_only_what_lies_between_its_markers() -> None:
    document = f"before\n{TABLE_START}\nold rows\n{TABLE_END}\nafter\n"

    assert with_functions_table(document, "| new |\n") == f"before\n{TABLE_START}\n\n| new |\n\n{TABLE_END}\nafter\n"
    with pytest.raises(ValueError, match="marker comments"):
        with_functions_table("no markers\n", "| new |\n")
