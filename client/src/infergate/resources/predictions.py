"""``client.predictions`` and ``client.run``: create, get, cancel, wait for and list predictions."""

import math
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from infergate._config import Settings
from infergate._drivers import AsyncDriver, SyncDriver
from infergate._flow import Deadline, Flow, Sleep, call_as
from infergate._request import ApiRequest, deduplicated_post, post, segment
from infergate.errors import InfergateError, PredictionCanceled, PredictionFailed, PredictionTimeout
from infergate.models import Prediction
from infergate.resources._paging import pages

# The API holds a ``Prefer: wait`` at most MAX_WAIT_SECONDS (20 s by default, 25 s at most; a longer wish is
# capped, not refused): asking for 25 s gets whatever the deployment allows.
SERVER_MAX_WAIT = 25
WAIT_READ_MARGIN = 10.0  # the read timeout of a held request: the wait plus this
DEFAULT_POLL_INTERVAL = 0.5
DEFAULT_RUN_TIMEOUT = 60.0
HOLD_MARGIN = 1.0  # run() holds its create this much less than its timeout: time for the answer to arrive


def model_ref(model: str, version: int | None) -> str:
    """``name`` or ``name:version``."""
    return model if version is None else f"{model}:{version}"


def create_flow(
    settings: Settings,
    model: str,
    input: Mapping[str, Any],
    *,
    version: int | None = None,
    webhook: str | None = None,
    webhook_events_filter: Sequence[str] | None = None,
    metadata: Mapping[str, str] | None = None,
    wait: float | None = None,
    idempotency_key: str | None = None,
    deadline: Deadline | None = None,
) -> Flow[Prediction]:
    body: dict[str, Any] = {"model": model_ref(model, version), "input": dict(input)}
    if webhook is not None:
        body["webhook"] = webhook
    if webhook_events_filter is not None:
        body["webhook_events_filter"] = list(webhook_events_filter)
    if metadata is not None:
        body["metadata"] = dict(metadata)
    headers: dict[str, str] = {}
    read_timeout = None
    if wait is not None and wait >= 1:
        seconds = min(math.floor(wait), SERVER_MAX_WAIT)
        headers["Prefer"] = f"wait={seconds}"
        read_timeout = seconds + WAIT_READ_MARGIN
    request = deduplicated_post(
        "/v1/predictions", body, idempotency_key=idempotency_key, headers=headers, read_timeout=read_timeout
    )
    return (yield from call_as(settings, request, Prediction.model_validate, deadline=deadline))


def get_flow(settings: Settings, prediction_id: str, deadline: Deadline | None = None) -> Flow[Prediction]:
    request = ApiRequest("GET", f"/v1/predictions/{segment(prediction_id)}")
    return (yield from call_as(settings, request, Prediction.model_validate, deadline=deadline))


def cancel_flow(settings: Settings, prediction_id: str) -> Flow[Prediction]:
    request = post(f"/v1/predictions/{segment(prediction_id)}/cancel", replayable=True)  # cancelling twice is harmless
    return (yield from call_as(settings, request, Prediction.model_validate))


def wait_flow(
    settings: Settings,
    prediction: Prediction | str,
    *,
    timeout: float | None = DEFAULT_RUN_TIMEOUT,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    deadline: Deadline | None = None,
) -> Flow[Prediction]:
    """Poll until the prediction is terminal; ``PredictionTimeout`` when the deadline passes first.

    Every GET (its retries and their sleeps too) is bounded by the deadline; one that fails for lack of time
    is a ``PredictionTimeout`` with the last state seen (before any was seen, its own error).
    """
    deadline = deadline or Deadline(timeout)
    if isinstance(prediction, Prediction):
        current = prediction
    else:
        current = yield from get_flow(settings, prediction, deadline)
    while not current.is_terminal:
        if deadline.passed():
            raise PredictionTimeout(current)
        yield Sleep(deadline.nap(poll_interval))
        try:
            current = yield from get_flow(settings, current.id, deadline)
        except InfergateError as error:
            if deadline.passed():
                raise PredictionTimeout(current) from error
            raise
    return current


def run_flow(
    settings: Settings,
    model: str,
    input: Mapping[str, Any],
    *,
    version: int | None = None,
    timeout: float = DEFAULT_RUN_TIMEOUT,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
) -> Flow[dict[str, Any]]:
    """Create held with ``Prefer: wait``, poll the rest of ``timeout``; the output, or why there is none.

    Every request, retry and sleep is bounded by ``timeout``. The create is held a little less than
    ``timeout`` (``HOLD_MARGIN``), so its answer arrives before the deadline. A create that cannot get
    through in time raises its own error (e.g. ``RateLimited``, ``APITimeoutError``): there is no prediction.
    """
    deadline = Deadline(timeout)
    hold = timeout - HOLD_MARGIN
    created = yield from create_flow(settings, model, input, version=version, wait=hold, deadline=deadline)
    final = yield from wait_flow(settings, created, poll_interval=poll_interval, deadline=deadline)
    return outcome(final)


def outcome(prediction: Prediction) -> dict[str, Any]:
    """A terminal prediction's output; ``PredictionFailed`` / ``PredictionCanceled`` otherwise."""
    if prediction.status == "failed":
        raise PredictionFailed(prediction)
    if prediction.status == "canceled":
        raise PredictionCanceled(prediction)
    return prediction.output or {}


def list_flow(settings: Settings, *, limit: int | None, page_size: int | None, cursor: str | None) -> Flow[None]:
    parse = Prediction.model_validate
    return pages(settings, "/v1/predictions", parse, limit=limit, page_size=page_size, cursor=cursor)


class Predictions:
    """Asynchronous predictions (``/v1/predictions``)."""

    def __init__(self, driver: SyncDriver) -> None:
        self._driver = driver
        self._settings = driver.settings

    def create(
        self,
        model: str,
        input: Mapping[str, Any],
        *,
        version: int | None = None,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        metadata: Mapping[str, str] | None = None,
        wait: float | None = None,
        idempotency_key: str | None = None,
    ) -> Prediction:
        """Queue a prediction; ``wait`` seconds (capped by the server) holds the answer until it is done."""
        return self._driver.run(
            create_flow(
                self._settings,
                model,
                input,
                version=version,
                webhook=webhook,
                webhook_events_filter=webhook_events_filter,
                metadata=metadata,
                wait=wait,
                idempotency_key=idempotency_key,
            )
        )

    def get(self, prediction_id: str) -> Prediction:
        """The prediction as it is now."""
        return self._driver.run(get_flow(self._settings, prediction_id))

    def cancel(self, prediction_id: str) -> Prediction:
        """Cancel a queued prediction; a finished one comes back unchanged."""
        return self._driver.run(cancel_flow(self._settings, prediction_id))

    def wait(
        self,
        prediction_id: str,
        *,
        timeout: float | None = DEFAULT_RUN_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> Prediction:
        """Poll until terminal (whatever its status); ``PredictionTimeout`` after ``timeout`` seconds (None: never)."""
        return self._driver.run(wait_flow(self._settings, prediction_id, timeout=timeout, poll_interval=poll_interval))

    def list(
        self, *, limit: int | None = None, page_size: int | None = None, cursor: str | None = None
    ) -> Iterator[Prediction]:
        """Your predictions, newest first, following ``next`` cursors; at most ``limit`` of them."""
        return self._driver.iterate(list_flow(self._settings, limit=limit, page_size=page_size, cursor=cursor))


class AsyncPredictions:
    """Asynchronous predictions (``/v1/predictions``), async flavour."""

    def __init__(self, driver: AsyncDriver) -> None:
        self._driver = driver
        self._settings = driver.settings

    async def create(
        self,
        model: str,
        input: Mapping[str, Any],
        *,
        version: int | None = None,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        metadata: Mapping[str, str] | None = None,
        wait: float | None = None,
        idempotency_key: str | None = None,
    ) -> Prediction:
        """Queue a prediction; ``wait`` seconds (capped by the server) holds the answer until it is done."""
        return await self._driver.run(
            create_flow(
                self._settings,
                model,
                input,
                version=version,
                webhook=webhook,
                webhook_events_filter=webhook_events_filter,
                metadata=metadata,
                wait=wait,
                idempotency_key=idempotency_key,
            )
        )

    async def get(self, prediction_id: str) -> Prediction:
        """The prediction as it is now."""
        return await self._driver.run(get_flow(self._settings, prediction_id))

    async def cancel(self, prediction_id: str) -> Prediction:
        """Cancel a queued prediction; a finished one comes back unchanged."""
        return await self._driver.run(cancel_flow(self._settings, prediction_id))

    async def wait(
        self,
        prediction_id: str,
        *,
        timeout: float | None = DEFAULT_RUN_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> Prediction:
        """Poll until terminal (whatever its status); ``PredictionTimeout`` after ``timeout`` seconds (None: never)."""
        return await self._driver.run(
            wait_flow(self._settings, prediction_id, timeout=timeout, poll_interval=poll_interval)
        )

    def list(
        self, *, limit: int | None = None, page_size: int | None = None, cursor: str | None = None
    ) -> AsyncIterator[Prediction]:
        """Your predictions, newest first, following ``next`` cursors; at most ``limit`` of them."""
        return self._driver.iterate(list_flow(self._settings, limit=limit, page_size=page_size, cursor=cursor))
