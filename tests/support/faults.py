"""Fault injection on real boto3 clients: answer chosen calls with an AWS error instead of sending them."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.awsrequest import AWSResponse


@contextmanager
def failing(
    client: Any,
    operation: str,
    code: str = "ProvisionedThroughputExceededException",
    times: int = 1,
    mentioning: str | None = None,
) -> Iterator[list[int]]:
    """The next ``times`` calls of ``operation`` fail with ``code``; yields a one-item list counting them.

    With ``mentioning``, only calls whose request body contains it: calls made at once from several
    threads (the worker's) arrive in no fixed order, so a fault meant for one item names it."""
    injected = [0]
    lock = threading.Lock()

    def hook(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = params.get("body") or b""
        if mentioning is not None and mentioning.encode() not in (body.encode() if isinstance(body, str) else body):
            return None
        with lock:
            if injected[0] >= times:
                return None
            injected[0] += 1
        response = AWSResponse("https://fault.invalid", 400, {}, None)  # type: ignore[arg-type]
        return response, {
            "Error": {"Code": code, "Message": "injected fault"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }

    event = f"before-call.{client.meta.service_model.service_name}.{operation}"
    client.meta.events.register(event, hook, unique_id=f"fault-{operation}")
    try:
        yield injected
    finally:
        client.meta.events.unregister(event, unique_id=f"fault-{operation}")


def failing_response(code: str) -> tuple[AWSResponse, dict[str, Any]]:
    """What a ``before-call`` hook returns to make botocore raise ``ClientError(code)`` without sending."""
    response = AWSResponse("https://fault.invalid", 400, {}, None)  # type: ignore[arg-type]
    return response, {"Error": {"Code": code, "Message": "injected fault"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
