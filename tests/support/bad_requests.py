"""Bad requests and the RFC 9457 answer each must get; shared by the integration and e2e suites."""

from typing import Any, NamedTuple

PREDICTIONS = "/v1/predictions"
BIG = "x" * (256 * 1024)
HUGE_BODY = b'{"model":"echo","input":{"a":"' + b"x" * (1100 * 1024) + b'"}}'
UNKNOWN_ID = "pred_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"
BATCHES = "/v1/batches"
UNKNOWN_BATCH = "bat_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"
UNKNOWN_UPLOAD = "upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"


class BadRequest(NamedTuple):
    method: str
    path: str
    kwargs: dict[str, Any]  # body= (JSON) or raw_body= (bytes)
    status: int
    slug: str
    pointer: str | None = None


def _nest(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def _create(body: Any) -> dict[str, Any]:
    return {"body": body}


DEEP_JSON = b'{"model":"echo","input":{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
NOT_UTF8 = b'{"model":"echo","input":{"a":"\xff\xfe"}}'
HUGE_INTEGER = b'{"model":"echo","input":{"a":' + b"9" * 5000 + b"}}"

DEEP_INPUT = {"model": "echo", "input": {"a": _nest(300)}}
# The same key twice: most parsers keep the last value, so this would run sentiment.
TWO_MODELS = b'{"model": "echo", "model": "sentiment", "input": {"text": "a"}}'
TWO_INPUT_KEYS = b'{"model": "echo", "input": {"a": [{"b": 1, "b": 2}]}}'
LONG_NAME = "a" * 200  # a well-formed name but for its length
REGISTRATION = {"runtime": "onnx", "upload_id": UNKNOWN_UPLOAD, "input_schema": {}, "output_schema": {}}
LONE_SURROGATE = b'{"model":"echo","input":{"a":"\\ud800"}}'

BAD_REQUESTS: list[BadRequest] = [
    BadRequest("POST", PREDICTIONS, {"body": DEEP_INPUT}, 422, "validation-failed", "/input"),
    BadRequest("POST", PREDICTIONS, {"raw_body": LONE_SURROGATE}, 422, "validation-failed", "/input"),
    BadRequest("GET", f"{PREDICTIONS}?cursor=a.%C3%A9", {}, 400, "bad-request"),
    BadRequest("POST", PREDICTIONS, {"raw_body": DEEP_JSON}, 400, "malformed-json"),
    BadRequest("POST", PREDICTIONS, {"raw_body": NOT_UTF8}, 400, "malformed-json"),
    BadRequest("POST", PREDICTIONS, {"raw_body": HUGE_INTEGER}, 400, "malformed-json"),
    BadRequest("POST", PREDICTIONS, {"raw_body": b'{"model": "echo", "input": '}, 400, "malformed-json"),
    BadRequest("POST", PREDICTIONS, {"raw_body": TWO_MODELS}, 400, "malformed-json", "/model"),
    BadRequest("POST", PREDICTIONS, {"raw_body": TWO_INPUT_KEYS}, 400, "malformed-json", "/input/a/0/b"),
    BadRequest("POST", PREDICTIONS, _create({"input": {}}), 422, "validation-failed", "/model"),
    BadRequest(
        "POST", PREDICTIONS, _create({"model": "echo", "input": {}, "extra": 1}), 422, "validation-failed", "/extra"
    ),
    BadRequest("POST", PREDICTIONS, _create({"model": "echo", "input": []}), 422, "validation-failed", "/input"),
    BadRequest("POST", PREDICTIONS, _create({"model": 5, "input": {}}), 422, "validation-failed", "/model"),
    BadRequest("POST", PREDICTIONS, _create({"model": "nope", "input": {}}), 422, "invalid-request", "/model"),
    BadRequest(
        "POST", PREDICTIONS, _create({"model": "sentiment:9", "input": {"text": "a"}}), 422, "invalid-request", "/model"
    ),
    BadRequest(
        "POST",
        PREDICTIONS,
        _create({"model": "sentiment", "input": {"text": 1}}),
        422,
        "invalid-model-input",
        "/input/text",
    ),
    BadRequest("POST", PREDICTIONS, _create({"model": "echo", "input": {"b": BIG}}), 413, "payload-too-large"),
    BadRequest("POST", PREDICTIONS, {"raw_body": HUGE_BODY}, 413, "payload-too-large"),
    BadRequest(
        "POST", PREDICTIONS, {"raw_body": b'{"model":"echo","input":{"a":NaN}}'}, 422, "validation-failed", "/input"
    ),
    BadRequest(
        "POST",
        PREDICTIONS,
        _create({"model": "echo", "input": {}, "metadata": {str(i): "v" for i in range(17)}}),
        422,
        "validation-failed",
        "/metadata",
    ),
    *(
        BadRequest(
            "POST",
            PREDICTIONS,
            _create({"model": "echo", "input": {}, "webhook": url}),
            422,
            "invalid-request",
            "/webhook",
        )
        for url in [
            "not a url",
            "http://example.com/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://0x7f000001/",
            "https://[::ffff:10.0.0.1]/",
            "https://user:pw@example.com/",
        ]
    ),
    BadRequest("GET", f"{PREDICTIONS}/{UNKNOWN_ID}", {}, 404, "not-found"),
    BadRequest("GET", f"{PREDICTIONS}/not-an-id", {}, 404, "not-found"),
    BadRequest("POST", f"{PREDICTIONS}/{UNKNOWN_ID}/cancel", {}, 404, "not-found"),
    BadRequest("GET", f"{PREDICTIONS}?cursor=forged.cursor", {}, 400, "bad-request"),
    BadRequest("GET", f"{PREDICTIONS}?limit=0", {}, 400, "bad-request", "#/query/limit"),
    BadRequest("GET", f"{PREDICTIONS}?limit=101", {}, 400, "bad-request", "#/query/limit"),
    BadRequest("GET", f"{PREDICTIONS}?limit=abc", {}, 400, "bad-request", "#/query/limit"),
    BadRequest("GET", "/v1/models/nope", {}, 404, "not-found"),
    # A malformed model name in a URL that looks a model up names no model, whatever its length: 404.
    BadRequest("GET", f"/v1/models/{LONG_NAME}", {}, 404, "not-found"),
    BadRequest("GET", "/v1/models/Bad%20Name", {}, 404, "not-found"),
    BadRequest("GET", "/v1/models/sentiment:9", {}, 404, "not-found"),
    BadRequest("GET", "/v1/models/sentiment:0", {}, 404, "not-found"),
    BadRequest("POST", f"/v1/models/{LONG_NAME}/predict", _create({"input": {}}), 404, "not-found"),
    BadRequest("POST", f"/v1/models/{LONG_NAME}:1/predict", _create({"input": {}}), 404, "not-found"),
    # ... and where it names a model to register, 422, whatever its length.
    BadRequest(
        "POST", f"/v1/models/{LONG_NAME}/versions", _create(REGISTRATION), 422, "invalid-request", "#/path/name"
    ),
    BadRequest("POST", "/v1/models/Bad%20Name/versions", _create(REGISTRATION), 422, "invalid-request", "#/path/name"),
    BadRequest("DELETE", "/v1/keys/key_01JD5YB4W3ZV0B4S8FZ7Q6N9XK", {}, 404, "not-found"),
    BadRequest("DELETE", "/v1/keys/not-a-key", {}, 404, "not-found"),
    BadRequest("POST", "/v1/keys", _create({"name": "x", "scopes": ["root"]}), 422, "validation-failed", "/scopes/0"),
    BadRequest("POST", "/v1/keys", _create({"name": "", "scopes": ["predict"]}), 422, "validation-failed", "/name"),
    *(
        BadRequest(
            "POST", "/v1/keys", _create({"name": name, "scopes": ["predict"]}), 422, "validation-failed", "/name"
        )
        for name in ["nul\x00byte", "line\nbreak", "tab\there", "c1\x85control", "right-to-left\u202eoverride"]
    ),
    BadRequest(
        "POST",
        "/v1/keys",
        {"raw_body": b'{"name": "a", "scopes": ["predict"], "name": "b"}'},
        400,
        "malformed-json",
        "/name",
    ),
    BadRequest("GET", "/v1/nothing-here", {}, 404, "not-found"),
    BadRequest("DELETE", PREDICTIONS, {}, 405, "method-not-allowed"),
    BadRequest("PATCH", f"{PREDICTIONS}/{UNKNOWN_ID}", {}, 405, "method-not-allowed"),
    # Synchronous predict, uploads and registering versions.
    BadRequest("POST", "/v1/models/sentiment/predict", {"raw_body": b'{"input": '}, 400, "malformed-json"),
    BadRequest(
        "POST",
        "/v1/models/sentiment/predict",
        {"raw_body": b'{"input": {"text": "good", "text": "bad"}}'},
        400,
        "malformed-json",
        "/input/text",
    ),
    BadRequest(
        "POST",
        "/v1/models/sentiment/predict",
        _create({"input": {"text": 1}}),
        422,
        "invalid-model-input",
        "/input/text",
    ),
    BadRequest("POST", "/v1/models/sentiment/predict", _create({"input": {"text": BIG}}), 413, "payload-too-large"),
    BadRequest("POST", "/v1/models/sentiment/predict", _create({"text": "hi"}), 422, "validation-failed", "/input"),
    BadRequest("POST", "/v1/models/nope/predict", _create({"input": {}}), 404, "not-found"),
    BadRequest("POST", "/v1/models/sentiment:7/predict", _create({"input": {"text": "a"}}), 404, "not-found"),
    BadRequest("POST", "/v1/models/Bad%20Name/predict", _create({"input": {}}), 404, "not-found"),
    BadRequest(
        "POST",
        "/v1/uploads",
        _create({"purpose": "x", "content_type": "a", "size": 1}),
        422,
        "validation-failed",
        "/purpose",
    ),
    BadRequest(
        "POST",
        "/v1/uploads",
        _create({"purpose": "model_artifact", "content_type": "text/html", "size": 10}),
        422,
        "unusable-upload",
        "/content_type",
    ),
    BadRequest(
        "POST",
        "/v1/uploads",
        _create({"purpose": "model_artifact", "content_type": "application/onnx", "size": 10**12}),
        422,
        "validation-failed",
        "/size",
    ),
    BadRequest("POST", "/v1/models/iris/versions", {"raw_body": b"{"}, 400, "malformed-json"),
    BadRequest(
        "POST",
        "/v1/models/iris/versions",
        {"raw_body": b'{"runtime": "onnx", "input_schema": {"type": "object", "type": "array"}}'},
        400,
        "malformed-json",
        "/input_schema/type",
    ),
    BadRequest("POST", "/v1/models/new/versions", _create({"runtime": "onnx"}), 422, "validation-failed", "/upload_id"),
    BadRequest("GET", "/v1/uploads", {}, 405, "method-not-allowed"),
    BadRequest("POST", BATCHES, {"raw_body": b'{"model": '}, 400, "malformed-json"),
    BadRequest(
        "POST",
        BATCHES,
        {"raw_body": b'{"model": "echo", "input_upload_id": "a", "input_upload_id": "b"}'},
        400,
        "malformed-json",
        "/input_upload_id",
    ),
    BadRequest("POST", BATCHES, _create({"model": "echo"}), 422, "validation-failed", "/input_upload_id"),
    BadRequest(
        "POST",
        BATCHES,
        _create({"model": "echo", "input_upload_id": UNKNOWN_UPLOAD, "x": 1}),
        422,
        "validation-failed",
        "/x",
    ),
    BadRequest(
        "POST",
        BATCHES,
        _create({"model": "echo", "input_upload_id": UNKNOWN_UPLOAD}),
        422,
        "unusable-upload",
        "/input_upload_id",
    ),
    BadRequest(
        "POST", BATCHES, _create({"model": "nope", "input_upload_id": UNKNOWN_UPLOAD}), 422, "invalid-request", "/model"
    ),
    BadRequest("GET", f"{BATCHES}/{UNKNOWN_BATCH}", {}, 404, "not-found"),
    BadRequest("GET", f"{BATCHES}/not-a-batch", {}, 404, "not-found"),
    BadRequest("POST", f"{BATCHES}/{UNKNOWN_BATCH}/cancel", {}, 404, "not-found"),
    BadRequest("GET", f"{BATCHES}?cursor=forged.cursor", {}, 400, "bad-request"),
    BadRequest("GET", f"{BATCHES}?limit=0", {}, 400, "bad-request", "#/query/limit"),
    BadRequest("DELETE", BATCHES, {}, 405, "method-not-allowed"),
]
