"""Each error status is its own exception, carrying the problem document, the status and the request id."""

import httpx
import pytest
from infergate import (
    APIError,
    BadRequest,
    Conflict,
    Forbidden,
    InfergateError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)

from tests.client.fakes import FakeApi, problem

CLASSES = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: InvalidInput,
    429: RateLimited,
    503: ServiceUnavailable,
    500: ServerError,
    502: ServerError,
    418: APIError,
}


@pytest.mark.parametrize(("status", "cls"), CLASSES.items())
def test_each_status_raises_its_class_with_the_problem(status: int, cls: type[APIError]) -> None:
    api = FakeApi().on("GET", "/v1/models/x", problem(status, "What went wrong."))

    with pytest.raises(cls) as raised:
        api.client(max_retries=0).models.get("x")

    error = raised.value
    assert type(error) is cls
    assert isinstance(error, APIError)
    assert isinstance(error, InfergateError)
    assert error.status == status
    assert error.request_id == f"req-{status}"
    assert error.title == "Title"
    assert error.detail == "What went wrong."
    assert error.type == f"urn:infergate:problem:test-{status}"
    assert error.problem.instance == "/v1/x"
    assert "What went wrong." in str(error)


def test_a_422_names_each_field_with_its_json_pointer() -> None:
    errors = [{"pointer": "/input/text", "detail": "must be of type string"}]
    api = FakeApi().on("POST", "/v1/predictions", problem(422, "The input does not match.", errors=errors))

    with pytest.raises(InvalidInput) as raised:
        api.client().predictions.create("sentiment", {"text": 3})

    assert [(e.pointer, e.detail) for e in raised.value.errors] == [("/input/text", "must be of type string")]


def test_extra_problem_members_are_kept() -> None:
    api = FakeApi().on("GET", "/v1/batches/bat_1", problem(400, error={"code": "invalid_request"}))

    with pytest.raises(BadRequest) as raised:
        api.client().batches.get("bat_1")

    assert raised.value.problem.model_extra == {"error": {"code": "invalid_request"}}


@pytest.mark.parametrize(
    ("response", "cls", "detail"),
    [
        (httpx.Response(502, text="<html>Bad Gateway</html>"), ServerError, "<html>Bad Gateway</html>"),
        (httpx.Response(404, json={"error": "Model x not found"}), NotFound, "Model x not found"),
        (
            httpx.Response(400, json={"error": {"message": "bad file", "type": "invalid_request_error"}}),
            BadRequest,
            "bad file",
        ),
        (httpx.Response(401, content=b""), Unauthorized, ""),
        (httpx.Response(413, json=["not", "an", "object"]), PayloadTooLarge, '["not","an","object"]'),
    ],
)
def test_a_body_that_is_not_a_problem_still_raises_the_right_class(
    response: httpx.Response, cls: type[APIError], detail: str
) -> None:
    api = FakeApi().on("GET", "/v1/models", response)

    with pytest.raises(cls) as raised:
        api.client(max_retries=0).models.list()

    assert raised.value.status == response.status_code
    assert raised.value.detail.replace(" ", "") == detail.replace(" ", "")
    assert raised.value.title  # the status's reason phrase
