"""A prediction and a batch to start a test from: one default each, with the fields a test cares about
changed (``a_prediction(status=..., webhook=...)``). Created now, kept until ``EXPIRES_AT``, not yet run."""

from dataclasses import replace
from typing import Any

from shared.batches.models import Batch, BatchStatus
from shared.kernel.clock import to_rfc3339, utc_now
from shared.predictions.models import Prediction, PredictionStatus
from shared.uploads.service import object_key

TENANT = "acme"
PREDICTION_ID = "pred_01JD5YB4W3ZV0B4S8FZ7Q6N9XK"
BATCH_ID = "bat_01JD5YB4W3ZV0B4S8FZ7Q6N9AA"
INPUT_UPLOAD_ID = "upl_01JD5YB4W3ZV0B4S8FZ7Q6N9AB"
EXPIRES_AT = 2_000_000_000  # epoch seconds, in 2033: never expired while a test runs


def a_prediction(**changes: Any) -> Prediction:
    """A prediction of the echo model, starting, without a webhook; ``changes`` as ``dataclasses.replace``."""
    default = Prediction(
        id=PREDICTION_ID,
        tenant=TENANT,
        model="echo",
        version=1,
        status=PredictionStatus.STARTING,
        input={},
        created_at=to_rfc3339(utc_now()),
        expires_at=EXPIRES_AT,
    )
    return replace(default, **changes)


def a_batch(**changes: Any) -> Batch:
    """A batch of the echo model over an uploaded file, validating, without a webhook; ``changes`` as
    ``dataclasses.replace``."""
    default = Batch(
        id=BATCH_ID,
        tenant=TENANT,
        model="echo",
        version=1,
        status=BatchStatus.VALIDATING,
        input_upload_id=INPUT_UPLOAD_ID,
        input_key=object_key(TENANT, INPUT_UPLOAD_ID),
        created_at=to_rfc3339(utc_now()),
        expires_at=EXPIRES_AT,
    )
    return replace(default, **changes)
