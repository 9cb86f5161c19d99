"""A key's name is a label people read in listings, terminals and logs: printable text only."""

import pytest
from pydantic import ValidationError

from shared.api.schemas import CreateKeyRequest


@pytest.mark.parametrize("name", ["ci", "my app (prod) #2", "équipe données", "日本語のキー", "deploy 🚀", "a" * 100])
def test_printable_names_are_accepted(name: str) -> None:
    assert CreateKeyRequest.model_validate({"name": name, "scopes": ["predict"]}).name == name


@pytest.mark.parametrize(
    "name",
    [
        "nul\x00",  # C0 controls
        "line\nbreak",
        "tab\there",
        "escape\x1b[31mred",
        "delete\x7f",
        "c1\x85next-line",  # C1 controls
        "bidi\u202eoverride",  # format characters (Cf): invisible, they reorder or hide text
        "zero\u200bwidth",
        "bom\ufeff",
        "line\u2028separator",  # Zl / Zp
        "no\u00a0break",  # a space other than the plain one
        "private\ue000use",  # Co
        "unassigned\U000e0fff",  # Cn
        " ",  # nothing visible: a listing would show an empty name
        "   ",
    ],
)
def test_names_with_control_format_or_invisible_characters_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as raised:
        CreateKeyRequest.model_validate({"name": name, "scopes": ["predict"]})

    [error] = raised.value.errors()
    assert error["loc"] == ("name",)
    assert "printable" in error["msg"]
