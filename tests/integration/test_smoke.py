from functions.create_prediction.app import handler as create_handler
from functions.get_health.app import handler as health_handler
from tests.conftest import Credential
from tests.support.events import bearer, http_event, response_json
from tools.lambda_runtime import LocalContext


def test_health(stack: object) -> None:
    response = health_handler(http_event("GET", "/v1/health"), LocalContext("GetHealthFunction", 10))
    assert response["statusCode"] == 200
    assert response_json(response) == {"status": "ok", "version": "0.1.0"}


def test_create(admin: Credential) -> None:
    event = http_event(
        "POST", "/v1/predictions", body={"model": "echo", "input": {"a": 1}}, headers=bearer(admin.secret)
    )
    response = create_handler(event, LocalContext("CreatePredictionFunction", 28))
    assert response["statusCode"] == 201, response
    assert response_json(response)["status"] == "starting"
