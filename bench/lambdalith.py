"""Reference only (never deployed): the "Lambdalith" a team would write by hand — one FastAPI + Mangum
function serving every route, with the model runtimes imported up front.

Built from the same route code: each API function's router is mounted on one app. The function
modules build their own Mangum adapter when imported; that step is skipped here (``lambda_handler``
is replaced before they are imported), so the Lambdalith pays for one app, as a hand-written one would.
"""

import sys
from importlib import import_module
from typing import Any

import onnxruntime  # noqa: F401 - a Lambdalith serves synchronous inference: the runtimes load with it
import vaderSentiment.vaderSentiment  # noqa: F401
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import APIRouter
from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

import shared.api.app as app_factory
from shared.api.problems import PROBLEM_MEDIA_TYPE

# Every API function's module (bench/cold_start.py checks this list against template.yaml).
API_MODULES = (
    "functions.get_health.app",
    "functions.get_api_document.app",
    "functions.create_key.app",
    "functions.list_keys.app",
    "functions.delete_key.app",
    "functions.list_models.app",
    "functions.get_model.app",
    "functions.create_prediction.app",
    "functions.list_predictions.app",
    "functions.get_prediction.app",
    "functions.cancel_prediction.app",
    "functions.get_webhook_secret.app",
    "functions.rotate_webhook_secret.app",
    "functions.list_webhook_deliveries.app",
    "functions.create_upload.app",
    "functions.create_upload_part.app",
    "functions.complete_upload.app",
    "functions.cancel_upload.app",
    "functions.create_file.app",
    "functions.list_files.app",
    "functions.get_file.app",
    "functions.get_file_content.app",
    "functions.delete_file.app",
    "functions.create_model_version.app",
    "functions.predict_model.app",
    "functions.create_embeddings.app",
    "functions.create_batch.app",
    "functions.list_batches.app",
    "functions.get_batch.app",
    "functions.cancel_batch.app",
    "functions.get_server_live.app",
    "functions.get_server_ready.app",
    "functions.get_server_metadata.app",
    "functions.get_model_metadata.app",
    "functions.get_model_ready.app",
)


def _routers() -> list[APIRouter]:
    building = app_factory.lambda_handler
    fresh = [module for module in API_MODULES if module not in sys.modules]
    app_factory.lambda_handler = lambda router: None  # type: ignore[assignment,return-value]
    try:
        return [import_module(module).router for module in API_MODULES]
    finally:
        app_factory.lambda_handler = building
        # Imported here without a handler of their own: whoever imports them next gets them whole (a test
        # process that imported this module once invoked functions whose `handler` was None).
        for module in fresh:
            sys.modules.pop(module, None)


_adapter = Mangum(
    app_factory.create_app(*_routers()),
    lifespan="off",
    text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, PROBLEM_MEDIA_TYPE],
)


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response: dict[str, Any] = _adapter(event, context)  # type: ignore[arg-type]
    return response
