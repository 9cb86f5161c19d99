"""The local stack runs every function in one process: each log line still carries the function name, cold
start flag and correlation id of the invocation that wrote it, also while another function runs at once."""

import json
import logging
import threading
from typing import Any

import boto3

from shared.kernel.observability import logger
from shared.keys.models import Scope
from shared.predictions.service import NewPrediction
from shared.wiring import prediction_service
from tests.conftest import MintKey
from tests.support.events import bearer, http_event
from tools.lambda_runtime import invoke
from tools.provision import Stack
from tools.sqs_events import lambda_event
from tools.template import load_template

API_FUNCTION = "DeleteKeyFunction"
QUEUE_FUNCTION = "RunPredictionsFunction"


class Rendezvous(logging.Handler):
    """Formats each line as Lambda does, but a thread's first line only once the other thread has written its
    own first line: by then both invocations have set up their logging, so a key kept in state the threads
    share (rather than in each thread's own) shows the other invocation's value on one of the two lines."""

    def __init__(self, threads: int) -> None:
        super().__init__()
        self.setFormatter(logger.registered_formatter)
        self._meeting = threading.Barrier(threads)
        self._arrived: set[str] = set()
        self.lines: list[tuple[str, dict[str, Any]]] = []
        self.late: set[str] = set()  # threads whose first line came when the other thread had none

    def handle(self, record: logging.LogRecord) -> bool:
        thread = threading.current_thread().name
        if thread not in self._arrived:  # waits outside the handler's lock, which emit() holds
            self._arrived.add(thread)
            try:
                self._meeting.wait(timeout=10)
            except threading.BrokenBarrierError:
                self.late.add(thread)
        return super().handle(record)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((threading.current_thread().name, json.loads(self.format(record))))


def run_at_once(events: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Invoke each function (logical id: event) on a thread of its own, named after it, as the local stack does;
    the log lines each thread wrote."""
    template = load_template()
    failures: list[BaseException] = []

    def run(logical_id: str) -> None:
        try:
            invoke(template.function(logical_id), events[logical_id])
        except BaseException as error:  # noqa: BLE001 - reported by the test's thread
            failures.append(error)

    rendezvous = Rendezvous(threads=len(events))
    service_logger = logging.getLogger(logger.service)  # the stdlib logger Powertools writes through
    service_logger.addHandler(rendezvous)
    try:
        threads = [threading.Thread(target=run, args=(name,), name=name) for name in events]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        service_logger.removeHandler(rendezvous)
    assert failures == []
    assert rendezvous.late == set(), "each function writes a line while the other one runs"
    return rendezvous.lines


def _revoke_event(mint: MintKey, request_id: str) -> dict[str, Any]:
    admin = mint("acme", (Scope.ADMIN,))
    doomed = mint("acme", (Scope.PREDICT,))
    route_key = "DELETE /v1/keys/{key_id}"
    event = http_event("DELETE", f"/v1/keys/{doomed.key_id}", headers=bearer(admin.secret), route_key=route_key)
    event["requestContext"]["requestId"] = request_id  # API Gateway's request id: the correlation id
    return event


def _worker_event(stack: Stack, correlation_id: str) -> dict[str, Any]:
    prediction_service().create("acme", NewPrediction("echo", {"n": 1}), correlation_id)
    received = boto3.client("sqs").receive_message(
        QueueUrl=stack.refs["PredictionsQueue"], MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]
    )
    return lambda_event([dict(m) for m in received["Messages"]], stack.arns["PredictionsQueue"], "us-east-1")


def test_two_functions_at_once_log_their_own_name_cold_start_and_correlation_id(stack: Stack, mint: MintKey) -> None:
    for cold_start, run in ((True, "first"), (False, "second")):
        correlation = {API_FUNCTION: f"req-api-{run}", QUEUE_FUNCTION: f"req-worker-{run}"}
        lines = run_at_once(
            {
                API_FUNCTION: _revoke_event(mint, correlation[API_FUNCTION]),
                QUEUE_FUNCTION: _worker_event(stack, correlation[QUEUE_FUNCTION]),
            }
        )

        messages = {(thread, line["message"]) for thread, line in lines}
        assert {(API_FUNCTION, "api key revoked"), (QUEUE_FUNCTION, "prediction finished")} <= messages
        keys = [
            (thread, line["message"], line.get("function_name"), line.get("correlation_id"), line.get("cold_start"))
            for thread, line in lines
        ]
        assert keys == [(thread, message, thread, correlation[thread], cold_start) for thread, message, *_ in keys], (
            f"{run} invocation of each function: {keys}"
        )
