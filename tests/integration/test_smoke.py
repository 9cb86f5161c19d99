import asyncio

from tests.conftest import Credential
from tests.support.events import bearer, http_event, response_json
from tools.lambda_runtime import invoke_function


def test_health(stack: object) -> None:
    response = invoke_function("GetHealthFunction", http_event("GET", "/v1/health"))
    assert response["statusCode"] == 200
    assert response_json(response) == {"status": "ok", "version": "0.1.0"}


def test_create(admin: Credential) -> None:
    event = http_event(
        "POST", "/v1/predictions", body={"model": "echo", "input": {"a": 1}}, headers=bearer(admin.secret)
    )
    response = invoke_function("CreatePredictionFunction", event)
    assert response["statusCode"] == 201, response
    assert response_json(response)["status"] == "starting"


def test_a_handler_still_answers_after_the_process_ran_and_closed_an_event_loop(stack: object) -> None:
    async def nothing() -> None:
        return None

    asyncio.run(nothing())  # leaves the main thread without a current event loop
    response = invoke_function("GetHealthFunction", http_event("GET", "/v1/health"))
    assert response["statusCode"] == 200
