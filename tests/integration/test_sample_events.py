"""The sample events in ``events/``: one per template function, each accepted by its real handler.

They are what ``sam local invoke NAME -e events/<folder>.json`` and ``make invoke`` feed a function. Each
runs here against moto with what it refers to seeded first: the example key as an admin key of tenant
``example``, the example prediction, the example key to revoke.
"""

import base64
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from shared import __version__
from shared.adapters.clients import dynamodb_client, s3_client, sqs_client
from shared.adapters.dynamodb.keys import DynamoKeyStore
from shared.api.bodies import body_rule
from shared.batches.models import BatchStatus
from shared.kernel.clock import to_rfc3339, utc_now
from shared.kernel.messages import (
    BATCHES_QUEUE,
    PREDICTIONS_QUEUE,
    WEBHOOKS_QUEUE,
    BatchStep,
    BatchStepKind,
    DeliverWebhook,
    RunBatchChunk,
    RunPrediction,
)
from shared.kernel.outbox import EventType, PlannedDelivery
from shared.keys.models import ApiKey, AuthenticationError, Scope, hash_secret
from shared.predictions.models import Prediction, PredictionStatus, Transition
from shared.settings import BatchSettings, BucketSettings, QueueSettings, StoreSettings, settings
from shared.uploads.models import Purpose, UploadPart, UploadStatus
from shared.uploads.service import object_key
from shared.wiring import (
    batch_store,
    delivery_queries,
    file_store,
    key_service,
    model_registry,
    prediction_store,
    secret_service,
    upload_service,
)
from tests.support.events import response_json
from tests.support.example_batch import (
    BATCH_FILE,
    BATCH_ID,
    BATCH_UPLOAD_ID,
    Places,
    store_batch_upload,
    store_example_batch,
    store_upload,
)
from tests.support.example_files import (
    EXAMPLE_FILE_ID,
    EXAMPLE_LINES,
    PARTED_UPLOAD_ID,
    PENDING_UPLOAD_ID,
    store_batch_upload_in_parts,
    store_example_file,
)
from tests.support.example_text_model import EMBEDDING_MODEL, store_example_text_model
from tests.support.resources import a_prediction
from tests.support.text_models import DIM, expected_embedding, token_count
from tools.lambda_runtime import invoke_function
from tools.provision import Stack
from tools.sqs_events import lambda_record
from tools.template import ROOT, FunctionSpec, load_template

EVENTS_DIR = ROOT / "events"
EXAMPLE_TENANT = "example"
EXAMPLE_KEY = "igk_exampleadminkey00000000000000000000"
PREDICTION_ID = "pred_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"
PREDICTION_INPUT = {"text": "Infergate makes serving models easy!"}
KEY_ID = "key_01JD5YB4W3ZV0B4S8FZ7Q6N9XM"
REVOKED_KEY_SECRET = "igk_cipipelinekey111111111111111111111"
PROBLEM_JSON = "application/problem+json"
UPLOAD_ID = "upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XQ"
IRIS_BYTES = (ROOT / "shared" / "runtimes" / "bundled" / "iris.onnx").read_bytes()

FUNCTIONS = load_template().functions
HTTP_FUNCTIONS = [spec for spec in FUNCTIONS if spec.routes or spec.default_route]
QUEUE_FUNCTIONS = [spec for spec in FUNCTIONS if spec.queue_triggers]

Event = dict[str, Any]
Response = Any


def event_path(spec: FunctionSpec) -> Path:
    return EVENTS_DIR / f"{spec.folder}.json"


def load_event(spec: FunctionSpec) -> Event:
    path = event_path(spec)
    assert path.is_file(), f"{spec.logical_id} has no sample event: add events/{path.name}"
    event: Event = json.loads(path.read_text(encoding="utf-8"))
    return event


def bearer_secret(event: Event) -> str | None:
    authorization = str(event.get("headers", {}).get("authorization", ""))
    return authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ") else None


def headers_of(response: Response) -> dict[str, str]:
    return {name.lower(): value for name, value in response["headers"].items()}


def request_body(event: Event) -> Any:
    return json.loads(event["body"])


# ---------------------------------------------------------------- Given: what the events refer to


def nothing() -> None:
    """The event needs nothing beyond the caller's key."""


def _store_example_prediction(
    webhook: str | None = None, prediction_id: str = PREDICTION_ID, age: timedelta = timedelta(0)
) -> Prediction:
    now = utc_now() - age
    prediction = a_prediction(
        id=prediction_id,
        tenant=EXAMPLE_TENANT,
        model="sentiment",
        input=PREDICTION_INPUT,
        created_at=to_rfc3339(now),
        expires_at=int((now + timedelta(days=7)).timestamp()),
        webhook=webhook,
    )
    prediction_store().create(prediction)
    return prediction


def example_prediction() -> None:
    _store_example_prediction()


def key_to_revoke() -> None:
    store = DynamoKeyStore(settings(StoreSettings).table_name, dynamodb_client())
    key = ApiKey(
        id=KEY_ID,
        tenant=EXAMPLE_TENANT,
        name="ci pipeline",
        scopes=frozenset({Scope.PREDICT}),
        created_at=to_rfc3339(utc_now()),
        last4=REVOKED_KEY_SECRET[-4:],
    )
    store.create(key, hash_secret(REVOKED_KEY_SECRET))


STUCK_ID = "pred_01JD5YB4W3ZV0B4S8FZ7Q6N9XR"


def stuck_prediction() -> None:
    """Created an hour ago and never run: its message was lost."""
    _store_example_prediction(prediction_id=STUCK_ID, age=timedelta(hours=1))


def artifact_upload() -> None:
    """The iris model file, uploaded as the example upload the register-version event names."""
    store_upload(EXAMPLE_TENANT, UPLOAD_ID, Purpose.MODEL_ARTIFACT, "application/octet-stream", IRIS_BYTES, _places())


def example_text_model() -> None:
    """The tiny embedding model the create-embeddings event names, stored as registration stores it."""
    store_example_text_model(EXAMPLE_TENANT, *_places())


def batch_upload() -> None:
    """A three-line JSONL file, uploaded as the example batch upload the create-batch event names."""
    store_batch_upload(EXAMPLE_TENANT, *_places())


def example_batch() -> None:
    """The example batch, just created from the example upload (still validating)."""
    store_example_batch(EXAMPLE_TENANT, *_places())


def example_file() -> None:
    """The example batch file the file events name, stored as POST /v1/files stores it."""
    store_example_file(EXAMPLE_TENANT, _places())


def pending_batch_upload() -> None:
    """A pending OpenAI batch upload (the parts and cancel events name it)."""
    store_batch_upload_in_parts(EXAMPLE_TENANT, PENDING_UPLOAD_ID, False, _places())


def uploaded_part() -> None:
    """A batch upload holding its one part (the complete event names it)."""
    store_batch_upload_in_parts(EXAMPLE_TENANT, PARTED_UPLOAD_ID, True, _places())


def _places() -> Places:
    """The table, the bucket and their clients, for the shared seeding helpers."""
    return settings(StoreSettings).table_name, settings(BucketSettings).bucket_name, dynamodb_client(), s3_client()


def batches_queued() -> list[BatchStep]:
    queued = sqs_client().receive_message(
        QueueUrl=settings(BatchSettings).batches_queue_url, MessageAttributeNames=["All"], MaxNumberOfMessages=10
    )
    return [BATCHES_QUEUE.read(message["Body"]) for message in queued.get("Messages", [])]


# ---------------------------------------------------------------- Then: what each function answers


def health_is_ok(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    assert response_json(response) == {"status": "ok", "version": __version__}


def document_is_served(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    assert headers_of(response)["content-type"] == "application/json"
    assert response_json(response) == json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))


def key_is_minted(response: Response, event: Event) -> None:
    assert response["statusCode"] == 201
    body = response_json(response)
    requested = request_body(event)
    assert (body["name"], body["scopes"]) == (requested["name"], requested["scopes"])
    caller = key_service().authenticate(body["key"], Scope.PREDICT)
    assert (caller.tenant, caller.principal_id) == (EXAMPLE_TENANT, body["id"])


def first_key_is_minted(response: Response, event: Event) -> None:
    minted = response["result"]
    assert (minted["tenant"], minted["name"], minted["scopes"]) == (event["tenant"], event["name"], event["scopes"])
    caller = key_service().authenticate(minted["key"], Scope.ADMIN)
    assert (caller.tenant, caller.principal_id) == (event["tenant"], minted["id"])


def keys_are_listed(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    body = response_json(response)
    assert [(key["name"], key["scopes"], key["last4"]) for key in body["results"]] == [
        ("example admin", ["admin"], EXAMPLE_KEY[-4:])
    ]
    assert body["next"] is None


def key_is_revoked(response: Response, event: Event) -> None:
    assert response["statusCode"] == 204
    assert response["body"] == ""
    assert event["pathParameters"]["key_id"] == KEY_ID
    with pytest.raises(AuthenticationError):
        key_service().authenticate(REVOKED_KEY_SECRET, Scope.PREDICT)
    assert KEY_ID not in [key.id for key in key_service().list(EXAMPLE_TENANT, 100, None).items]


def models_are_listed(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    assert [model["name"] for model in response_json(response)["results"]] == [
        "all-minilm-l6-v2",
        "echo",
        "iris",
        "sentiment",
    ]


def model_is_described(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    body = response_json(response)
    assert (body["name"], body["latest_version"]) == (event["pathParameters"]["name"], 1)
    assert body["versions"][0]["input_schema"]["required"] == ["text"]


def prediction_is_queued(response: Response, event: Event) -> None:
    assert response["statusCode"] == 201
    body = response_json(response)
    requested = request_body(event)
    assert (body["model"], body["input"], body["status"]) == (requested["model"], requested["input"], "starting")
    assert headers_of(response)["location"] == body["urls"]["get"]
    queued = sqs_client().receive_message(
        QueueUrl=settings(QueueSettings).predictions_queue_url, MessageAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    assert [PREDICTIONS_QUEUE.read(message["Body"]) for message in queued] == [
        RunPrediction(tenant=EXAMPLE_TENANT, prediction_id=body["id"])
    ]
    assert queued[0]["MessageAttributes"]["correlation_id"]["StringValue"] == event["requestContext"]["requestId"]


def predictions_are_listed(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    body = response_json(response)
    assert [(p["id"], p["status"]) for p in body["results"]] == [(PREDICTION_ID, "starting")]
    assert body["next"] is None


def prediction_is_returned(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    body = response_json(response)
    assert (body["id"], body["status"], body["input"]) == (PREDICTION_ID, "starting", PREDICTION_INPUT)
    assert body["urls"]["get"] == f"https://{event['headers']['host']}/v1/predictions/{PREDICTION_ID}"


def prediction_is_canceled(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    body = response_json(response)
    assert (body["id"], body["status"]) == (PREDICTION_ID, "canceled")
    assert body["completed_at"] is not None
    assert prediction_store().get(EXAMPLE_TENANT, PREDICTION_ID).status is PredictionStatus.CANCELED


def route_is_not_found(response: Response, event: Event) -> None:
    assert response["statusCode"] == 404
    assert headers_of(response)["content-type"] == PROBLEM_JSON
    assert response_json(response) == {
        "type": "urn:infergate:problem:not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "There is no such route.",
        "instance": event["rawPath"],
    }


def prediction_is_run(response: Response, event: Event) -> None:
    assert response == {"batchItemFailures": []}
    stored = prediction_store().get(EXAMPLE_TENANT, PREDICTION_ID)
    assert stored.status is PredictionStatus.SUCCEEDED
    assert stored.output is not None
    assert stored.output["label"] == "positive"


WEBHOOK_DELIVERY_ID = "dlv_01JD5YB4W3ZV0B4S8FZ7Q6N9XP"
BLOCKED_WEBHOOK = "https://10.0.0.1/hooks/infergate"  # private: refused before any connection


def prediction_with_webhook_delivery(at: str | None = None) -> None:
    """The example prediction, canceled (at ``at``), with the prediction.completed delivery that wrote."""
    prediction = _store_example_prediction(webhook=BLOCKED_WEBHOOK)
    planned = PlannedDelivery(
        WEBHOOK_DELIVERY_ID, EventType.PREDICTION_COMPLETED, BLOCKED_WEBHOOK, prediction.expires_at
    )
    transition = Transition(PredictionStatus.CANCELED, at or to_rfc3339(utc_now()), deliveries=(planned,))
    prediction_store().transition(prediction, transition)


def overdue_webhook_delivery() -> None:
    """A delivery committed long ago whose hand-off to the queue was lost."""
    prediction_with_webhook_delivery(at="2024-11-20T18:03:00.000Z")


def secret_exists() -> None:
    secret_service().current(EXAMPLE_TENANT)


def secret_is_returned(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    key = response_json(response)["key"]
    assert key.startswith("whsec_")
    assert key == secret_service().current(EXAMPLE_TENANT).current


def secret_is_rotated(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    stored = secret_service().current(EXAMPLE_TENANT)
    assert response_json(response)["key"] == stored.current
    assert stored.previous is not None
    assert stored.signing_keys(time.time()) == [stored.current, stored.previous]


def deliveries_are_listed(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    [delivery] = response_json(response)["results"]
    assert (delivery["id"], delivery["event"], delivery["status"], delivery["attempts"]) == (
        WEBHOOK_DELIVERY_ID,
        "prediction.completed",
        "pending",
        0,
    )


def blocked_delivery_is_retried_later(response: Response, event: Event) -> None:
    [record] = event["Records"]
    assert response == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    [delivery] = delivery_queries().for_prediction(EXAMPLE_TENANT, PREDICTION_ID)
    assert (delivery.status.value, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error is not None
    assert "10.0.0.1" in delivery.last_error
    assert delivery.next_attempt_at is not None


def outbox_is_relayed(response: Response, event: Event) -> None:
    assert response == {"relayed": 1}
    queued = sqs_client().receive_message(QueueUrl=settings(QueueSettings).webhooks_queue_url, MaxNumberOfMessages=10)
    assert [WEBHOOKS_QUEUE.read(m["Body"]) for m in queued["Messages"]] == [
        DeliverWebhook(tenant=EXAMPLE_TENANT, prediction_id=PREDICTION_ID, delivery_id=WEBHOOK_DELIVERY_ID)
    ]


def upload_is_presigned(response: Response, event: Event) -> None:
    assert response["statusCode"] == 201
    body = response_json(response)
    assert (body["method"], body["headers"]["Content-Length"]) == ("PUT", str(request_body(event)["size"]))
    assert body["url"].startswith("https://")
    upload = upload_service().get(EXAMPLE_TENANT, body["id"])
    assert (upload.purpose, upload.size) == (Purpose.MODEL_ARTIFACT, request_body(event)["size"])


def file_is_stored(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200, response_json(response)
    body = response_json(response)
    assert (body["object"], body["filename"], body["bytes"], body["purpose"]) == (
        "file",
        "sentiment.jsonl",
        102,
        "batch",
    )
    key = f"uploads/{EXAMPLE_TENANT}/{body['id']}"
    stored = s3_client().get_object(Bucket=settings(BucketSettings).bucket_name, Key=key)["Body"].read()
    assert stored == EXAMPLE_LINES


def files_are_listed(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    body = response_json(response)
    assert ([f["id"] for f in body["data"]], body["has_more"]) == ([EXAMPLE_FILE_ID], False)


def file_is_returned(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    assert response_json(response)["id"] == EXAMPLE_FILE_ID


def file_content_is_redirected(response: Response, event: Event) -> None:
    assert response["statusCode"] == 307
    assert f"/uploads/{EXAMPLE_TENANT}/{EXAMPLE_FILE_ID}?" in response["headers"]["location"]


def file_is_deleted(response: Response, event: Event) -> None:
    assert response_json(response) == {"id": EXAMPLE_FILE_ID, "object": "file", "deleted": True}
    assert file_store().get(EXAMPLE_TENANT, EXAMPLE_FILE_ID) is None


def part_is_stored(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200, response_json(response)
    body = response_json(response)
    assert (body["object"], body["upload_id"]) == ("upload.part", PENDING_UPLOAD_ID)
    upload = upload_service().get(EXAMPLE_TENANT, PENDING_UPLOAD_ID)
    assert upload.parts == (UploadPart(body["id"], 102),)


def upload_is_completed(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200, response_json(response)
    body = response_json(response)
    assert (body["status"], body["file"]["id"], body["file"]["bytes"]) == (
        "completed",
        "file_01JD5YB4W3ZV0B4S8FZ7Q6N9XS",
        102,
    )
    made = file_store().get(EXAMPLE_TENANT, body["file"]["id"])
    assert made is not None
    assert made.key.startswith(object_key(EXAMPLE_TENANT, PARTED_UPLOAD_ID) + ".assembled/")
    assert s3_client().get_object(Bucket=settings(BucketSettings).bucket_name, Key=made.key)["Body"].read() == (
        EXAMPLE_LINES
    )


def upload_is_cancelled(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200, response_json(response)
    assert response_json(response)["status"] == "cancelled"
    assert upload_service().get(EXAMPLE_TENANT, PENDING_UPLOAD_ID).status is UploadStatus.CANCELLED


def version_is_registered(response: Response, event: Event) -> None:
    assert response["statusCode"] == 201, response_json(response)
    body = response_json(response)
    assert (body["version"], body["runtime"], body["artifact"]["size"]) == (1, "onnx", len(IRIS_BYTES))
    assert body["artifact"]["sha256"] == hashlib.sha256(IRIS_BYTES).hexdigest()
    model = model_registry().get(EXAMPLE_TENANT, event["pathParameters"]["name"])
    assert [v.version for v in model.versions] == [1]
    assert [spec.name for spec in model.latest.inputs] == ["features"]


def artifact_is_accepted(response: Response, event: Event) -> None:
    result = response["result"]
    assert result["ok"] is True
    assert result["sha256"] == hashlib.sha256(IRIS_BYTES).hexdigest()
    stored = s3_client().get_object(Bucket=settings(BucketSettings).bucket_name, Key=result["location"])
    assert stored["Body"].read() == IRIS_BYTES


def iris_is_predicted(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    body = response_json(response)
    assert (body["model"], body["version"], body["output"]["label"]) == ("iris", 1, "setosa")
    assert body["metrics"]["predict_time"] >= 0


def texts_are_embedded(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200, response_json(response)
    body = response_json(response)
    texts = json.loads(event["body"])["input"]
    assert (body["object"], body["model"]) == ("list", f"{EMBEDDING_MODEL}:1")
    assert [(item["object"], item["index"], len(item["embedding"])) for item in body["data"]] == [
        ("embedding", n, DIM) for n in range(len(texts))
    ]
    for item, text in zip(body["data"], texts, strict=True):
        assert item["embedding"] == pytest.approx(expected_embedding(text), abs=1e-6)
    tokens = sum(token_count(text) for text in texts)
    assert body["usage"] == {"prompt_tokens": tokens, "total_tokens": tokens}


def server_is_live(response: Response, event: Event) -> None:
    assert (response["statusCode"], response_json(response)) == (200, {"live": True})


def server_is_ready(response: Response, event: Event) -> None:
    assert (response["statusCode"], response_json(response)) == (200, {"ready": True, "live": True})


def server_is_described(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    assert response_json(response) == {
        "name": "infergate",
        "version": __version__,
        "extensions": ["binary_tensor_data"],
    }


def model_metadata_is_described(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    body = response_json(response)
    assert (body["name"], body["versions"], body["platform"]) == ("iris", ["1"], "onnxruntime_onnx")
    assert body["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, 4]}]


def model_is_ready(response: Response, event: Event) -> None:
    assert (response["statusCode"], response_json(response)) == (200, {"name": "sentiment", "ready": True})


def stuck_prediction_is_requeued(response: Response, event: Event) -> None:
    assert response == {
        "requeued": 1,
        "timed_out": 0,
        "skipped": 0,
        "batches_resumed": 0,
        "batches_timed_out": 0,
        "batches_skipped": 0,
    }
    messages = sqs_client().receive_message(
        QueueUrl=settings(QueueSettings).predictions_queue_url, MaxNumberOfMessages=10
    )
    assert [PREDICTIONS_QUEUE.read(m["Body"]) for m in messages["Messages"]] == [
        RunPrediction(tenant=EXAMPLE_TENANT, prediction_id=STUCK_ID)
    ]


def batch_is_queued_for_validation(response: Response, event: Event) -> None:
    assert response["statusCode"] == 201, response_json(response)
    body = response_json(response)
    requested = request_body(event)
    assert (body["model"], body["version"], body["status"]) == (requested["model"], 1, "validating")
    assert body["request_counts"] == {"total": 0, "completed": 0, "failed": 0}
    assert headers_of(response)["location"].endswith(f"/v1/batches/{body['id']}")
    assert batches_queued() == [
        BatchStep(kind=BatchStepKind.VALIDATE, tenant=EXAMPLE_TENANT, batch_id=body["id"], offset=0, line=1)
    ]


def batches_are_listed(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    body = response_json(response)
    assert [(b["id"], b["status"]) for b in body["data"]] == [(BATCH_ID, "validating")]
    assert (body["object"], body["first_id"], body["last_id"], body["has_more"]) == ("list", BATCH_ID, BATCH_ID, False)
    assert body["next"] is None


def batch_is_returned(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    body = response_json(response)
    assert (body["id"], body["status"], body["input_upload_id"]) == (BATCH_ID, "validating", BATCH_UPLOAD_ID)
    assert (body["output_url"], body["errors_url"], body["errors"]) == (None, None, None)


def batch_is_canceling(response: Response, event: Event) -> None:
    assert response["statusCode"] == 200
    assert response_json(response)["status"] == "cancelling"
    assert batches_queued() == [BatchStep(kind=BatchStepKind.FINALIZE, tenant=EXAMPLE_TENANT, batch_id=BATCH_ID)]


def batch_is_validated_and_fanned_out(response: Response, event: Event) -> None:
    assert response == {"batchItemFailures": []}
    batch = batch_store().get(EXAMPLE_TENANT, BATCH_ID)
    assert (batch.status, batch.counts.total, batch.chunks_total) == (BatchStatus.IN_PROGRESS, 3, 1)
    queued = sqs_client().receive_message(
        QueueUrl=settings(QueueSettings).predictions_queue_url, MaxNumberOfMessages=10
    )
    assert [PREDICTIONS_QUEUE.read(m["Body"]) for m in queued["Messages"]] == [
        RunBatchChunk(tenant=EXAMPLE_TENANT, batch_id=BATCH_ID, chunk=0, first_line=1, start=0, end=len(BATCH_FILE))
    ]


@dataclass(frozen=True)
class Scenario:
    given: Callable[[], None]
    then: Callable[[Response, Event], None]


SCENARIOS: dict[str, Scenario] = {
    "GetHealthFunction": Scenario(nothing, health_is_ok),
    "GetApiDocumentFunction": Scenario(nothing, document_is_served),
    "CreateKeyFunction": Scenario(nothing, key_is_minted),
    "ListKeysFunction": Scenario(nothing, keys_are_listed),
    "DeleteKeyFunction": Scenario(key_to_revoke, key_is_revoked),
    "ListModelsFunction": Scenario(nothing, models_are_listed),
    "GetModelFunction": Scenario(nothing, model_is_described),
    "CreatePredictionFunction": Scenario(nothing, prediction_is_queued),
    "ListPredictionsFunction": Scenario(example_prediction, predictions_are_listed),
    "GetPredictionFunction": Scenario(example_prediction, prediction_is_returned),
    "CancelPredictionFunction": Scenario(example_prediction, prediction_is_canceled),
    "RouteNotFoundFunction": Scenario(nothing, route_is_not_found),
    "RunPredictionsFunction": Scenario(example_prediction, prediction_is_run),
    "GetWebhookSecretFunction": Scenario(nothing, secret_is_returned),
    "RotateWebhookSecretFunction": Scenario(secret_exists, secret_is_rotated),
    "ListWebhookDeliveriesFunction": Scenario(prediction_with_webhook_delivery, deliveries_are_listed),
    "DeliverWebhooksFunction": Scenario(prediction_with_webhook_delivery, blocked_delivery_is_retried_later),
    "RelayWebhooksFunction": Scenario(overdue_webhook_delivery, outbox_is_relayed),
    "CreateUploadFunction": Scenario(nothing, upload_is_presigned),
    "CreateUploadPartFunction": Scenario(pending_batch_upload, part_is_stored),
    "CompleteUploadFunction": Scenario(uploaded_part, upload_is_completed),
    "CancelUploadFunction": Scenario(pending_batch_upload, upload_is_cancelled),
    "CreateFileFunction": Scenario(nothing, file_is_stored),
    "ListFilesFunction": Scenario(example_file, files_are_listed),
    "GetFileFunction": Scenario(example_file, file_is_returned),
    "GetFileContentFunction": Scenario(example_file, file_content_is_redirected),
    "DeleteFileFunction": Scenario(example_file, file_is_deleted),
    "SweepPredictionsFunction": Scenario(stuck_prediction, stuck_prediction_is_requeued),
    "CreateModelVersionFunction": Scenario(artifact_upload, version_is_registered),
    "InspectModelArtifactFunction": Scenario(artifact_upload, artifact_is_accepted),
    "RunAdminCommandFunction": Scenario(nothing, first_key_is_minted),
    "PredictModelFunction": Scenario(nothing, iris_is_predicted),
    "CreateEmbeddingsFunction": Scenario(example_text_model, texts_are_embedded),
    "GetServerLiveFunction": Scenario(nothing, server_is_live),
    "GetServerReadyFunction": Scenario(nothing, server_is_ready),
    "GetServerMetadataFunction": Scenario(nothing, server_is_described),
    "GetModelMetadataFunction": Scenario(nothing, model_metadata_is_described),
    "GetModelReadyFunction": Scenario(nothing, model_is_ready),
    "CreateBatchFunction": Scenario(batch_upload, batch_is_queued_for_validation),
    "ListBatchesFunction": Scenario(example_batch, batches_are_listed),
    "GetBatchFunction": Scenario(example_batch, batch_is_returned),
    "CancelBatchFunction": Scenario(example_batch, batch_is_canceling),
    "ProcessBatchesFunction": Scenario(example_batch, batch_is_validated_and_fanned_out),
}
MESSAGES: dict[str, Any] = {
    "PredictionsQueue": PREDICTIONS_QUEUE,
    "WebhooksQueue": WEBHOOKS_QUEUE,
    "BatchesQueue": BATCHES_QUEUE,
}
EXPECTED_MESSAGES: dict[str, Any] = {
    "PredictionsQueue": RunPrediction(tenant=EXAMPLE_TENANT, prediction_id=PREDICTION_ID),
    "WebhooksQueue": DeliverWebhook(
        tenant=EXAMPLE_TENANT, prediction_id=PREDICTION_ID, delivery_id=WEBHOOK_DELIVERY_ID
    ),
    "BatchesQueue": BatchStep(kind=BatchStepKind.VALIDATE, tenant=EXAMPLE_TENANT, batch_id=BATCH_ID),
}


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_sample_event_runs_against_its_function(spec: FunctionSpec, stack: Stack) -> None:
    # Given the function's sample event, its caller's key and what it refers to
    event = load_event(spec)
    scenario = SCENARIOS.get(spec.logical_id)
    assert scenario is not None, f"add a Scenario for {spec.logical_id} to {Path(__file__).name}"
    secret = bearer_secret(event)
    if secret is not None:
        key_service().import_secret(EXAMPLE_TENANT, "example admin", [Scope.ADMIN], secret)
    scenario.given()

    # When the function is invoked with it
    response = invoke_function(spec.logical_id, event)

    # Then it answers as expected and the state it changed is stored
    scenario.then(response, event)


def test_every_sample_event_belongs_to_a_template_function() -> None:
    # Given the function folders of template.yaml
    expected = {f"{spec.folder}.json" for spec in FUNCTIONS}

    # When the events folder is listed
    present = {path.name for path in EVENTS_DIR.iterdir()}

    # Then there is one event per function and nothing else
    assert sorted(present - expected) == [], "orphan sample events: no template function has that folder"
    assert sorted(expected - present) == [], "template functions without a sample event"


@pytest.mark.parametrize("spec", HTTP_FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_http_sample_event_is_an_http_api_v2_request_for_its_route(spec: FunctionSpec) -> None:
    # Given the sample event of an HTTP function
    event = load_event(spec)
    context = event["requestContext"]

    # When its route and request line are compared with the template's route
    route_keys = [f"{route.method} {route.path}" for route in spec.routes] + (
        ["$default"] if spec.default_route else []
    )
    method = context["http"]["method"]

    # Then it is a payload v2.0 event API Gateway would send to this function (a multipart body is
    # binary to API Gateway: base64)
    multipart = body_rule(method, event["rawPath"]).multipart
    assert (event["version"], context["stage"], event["isBase64Encoded"]) == ("2.0", "$default", multipart)
    assert event["routeKey"] == context["routeKey"]
    assert event["routeKey"] in route_keys
    assert event["rawPath"] == context["http"]["path"]
    if event["routeKey"] != "$default":
        route_method, route_path = event["routeKey"].split(" ", 1)
        assert method == route_method
        assert event["rawPath"] == route_path.format(**event.get("pathParameters", {}))
    assert dict(parse_qsl(event["rawQueryString"])) == event.get("queryStringParameters", {})
    assert all(name == name.lower() for name in event["headers"])
    assert event["headers"]["host"] == context["domainName"]
    media_type = event["headers"]["content-type"].split(";")[0]
    assert media_type == ("multipart/form-data" if multipart else "application/json")
    assert bearer_secret(event) in (None, EXAMPLE_KEY)
    moment = datetime.strptime(context["time"], "%d/%b/%Y:%H:%M:%S %z")
    assert int(moment.timestamp()) == context["timeEpoch"] // 1000
    if "body" in event and multipart:
        assert event["headers"]["content-length"] == str(len(base64.b64decode(event["body"], validate=True)))
    elif "body" in event:
        assert isinstance(event["body"], str)
        assert event["headers"]["content-length"] == str(len(event["body"].encode()))
        json.loads(event["body"])


@pytest.mark.parametrize("spec", QUEUE_FUNCTIONS, ids=lambda spec: spec.logical_id)
def test_queue_sample_event_is_what_the_sqs_trigger_delivers(spec: FunctionSpec) -> None:
    # Given the sample event of a queue function, and a record as the local pollers build them
    event = load_event(spec)
    [trigger] = spec.queue_triggers
    delivered = lambda_record(
        {"MessageId": "m", "ReceiptHandle": "r", "Body": "{}"}, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1"
    )

    # When the sample's records are inspected
    records = event["Records"]

    # Then they have the SQS trigger's shape, come from the trigger's queue and carry a valid message
    assert list(event) == ["Records"]
    assert 1 <= len(records) <= trigger.batch_size
    for record in records:
        assert set(record) == set(delivered)
        assert set(record["attributes"]) == set(delivered["attributes"])
        assert record["eventSource"] == "aws:sqs"
        assert re.fullmatch(
            rf"arn:aws:sqs:{record['awsRegion']}:\d{{12}}:infergate-{trigger.queue}", record["eventSourceARN"]
        )
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324 - SQS's checksum
        assert MESSAGES[trigger.queue].read(record["body"]) == EXPECTED_MESSAGES[trigger.queue]
        assert record["messageAttributes"]["correlation_id"]["dataType"] == "String"
        assert record["messageAttributes"]["correlation_id"]["stringValue"]
        sent = datetime.fromtimestamp(int(record["attributes"]["SentTimestamp"]) / 1000, UTC)
        assert sent <= datetime.fromtimestamp(int(record["attributes"]["ApproximateFirstReceiveTimestamp"]) / 1000, UTC)
