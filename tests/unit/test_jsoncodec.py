"""The strict decoder of what callers send: ``json.loads`` that refuses an object naming a key twice."""

import json
from typing import Any

import pytest

from shared.kernel.jsoncodec import DuplicateKeyError, loads


@pytest.mark.parametrize(
    "document",
    ['{"model": "echo", "input": {"a": [1, {"b": null}]}}', "[]", '"text"', "3.5", '{"a": {"a": {"a": 1}}}'],
)
def test_documents_without_duplicates_decode_as_json_loads_does(document: str) -> None:
    assert loads(document) == json.loads(document)
    assert loads(document.encode()) == json.loads(document)


@pytest.mark.parametrize(
    ("document", "key", "pointer"),
    [
        ('{"model": "echo", "model": "sentiment"}', "model", "/model"),
        ('{"input": {"a": 1, "b": 2, "a": 3}}', "a", "/input/a"),
        ('{"rows": [{"x": 1}, {"y": 1, "y": 1}]}', "y", "/rows/1/y"),
        ('[0, [{"k": 1, "k": 1}]]', "k", "/1/0/k"),
        ('{"a/b~c": 1, "a/b~c": 2}', "a/b~c", "/a~1b~0c"),
        ('{"\\u0061": 1, "a": 2}', "a", "/a"),  # the same key once decoded
        ('{"": 1, "": 2}', "", "/"),
    ],
)
def test_a_duplicate_key_is_refused_naming_it_and_where(document: str, key: str, pointer: str) -> None:
    with pytest.raises(DuplicateKeyError) as raised:
        loads(document)

    assert (raised.value.key, raised.value.pointer) == (key, pointer)
    assert raised.value.msg == f"the key {json.dumps(key)} appears more than once in one object (at {pointer})"


def test_it_is_a_json_decode_error_so_every_json_caller_refuses_it() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads(b'{"a": 1, "a": 1}')


def test_a_long_duplicate_key_is_named_cut_short() -> None:
    key = "k" * 1000
    with pytest.raises(DuplicateKeyError) as raised:
        loads(json.dumps({"outer": 1}).replace("outer", key)[:-1] + f', "{key}": 2}}')

    assert raised.value.key == "k" * 64 + "…"
    assert "k" * 65 not in str(raised.value)


def test_options_are_passed_on() -> None:
    def refuse(name: str) -> Any:
        raise ValueError(name)

    with pytest.raises(ValueError, match="NaN"):
        loads('{"a": NaN}', parse_constant=refuse)
