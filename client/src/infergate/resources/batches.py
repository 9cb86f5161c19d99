"""``client.batches``: run a model over many inputs from rows or a JSONL file, follow it, read its results."""

import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from infergate._config import Settings
from infergate._drivers import AsyncDriver, SyncDriver
from infergate._flow import Deadline, Flow, Notify, Sleep, call_as, emit_lines, send
from infergate._request import ApiRequest, deduplicated_post, post, segment
from infergate.errors import BatchNotFinished, BatchTimeout, InfergateError, InvalidRequest
from infergate.models import Batch
from infergate.resources._paging import pages
from infergate.resources._uploads import Source, source_of, upload_flow
from infergate.resources.predictions import model_ref

JSONL = "application/jsonl"
DEFAULT_POLL_INTERVAL = 1.0
ResultKind = Literal["all", "output", "errors"]
OnProgress = Callable[[Batch], object] | Callable[[Batch], Awaitable[object]]


def jsonl(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Rows as a batch file: one ``{"custom_id": ..., "input": {...}}`` JSON object per line."""
    return b"".join(json.dumps(dict(row), ensure_ascii=False).encode() + b"\n" for row in rows)


def create_flow(
    settings: Settings,
    model: str,
    rows: Iterable[Mapping[str, Any]] | None,
    path: Source | None,
    *,
    version: int | None,
    webhook: str | None,
    metadata: Mapping[str, str] | None,
) -> Flow[Batch]:
    if rows is not None and path is None:
        content: bytes | Path = jsonl(rows)
    elif path is not None and rows is None:
        content = source_of(path)
    else:
        raise ValueError("give the batch's lines as rows=... or as a JSONL file path=..., one of the two")
    upload = yield from upload_flow(settings, "batch_input", JSONL, content)
    body: dict[str, Any] = {"model": model_ref(model, version), "input_upload_id": upload.id}
    if webhook is not None:
        body["webhook"] = webhook
    if metadata is not None:
        body["metadata"] = dict(metadata)
    # One Idempotency-Key per call, kept by its retries. A caller's own key could not work: each call uploads
    # the file again, so the body names another upload and the server would answer 409 to the same key.
    request = deduplicated_post("/v1/batches", body)
    return (yield from call_as(settings, request, Batch.model_validate))


def get_flow(settings: Settings, batch_id: str, deadline: Deadline | None = None) -> Flow[Batch]:
    request = ApiRequest("GET", f"/v1/batches/{segment(batch_id)}")
    return (yield from call_as(settings, request, Batch.model_validate, deadline=deadline))


def cancel_flow(settings: Settings, batch_id: str) -> Flow[Batch]:
    request = post(f"/v1/batches/{segment(batch_id)}/cancel", replayable=True)  # a finished batch comes back unchanged
    return (yield from call_as(settings, request, Batch.model_validate))


def list_flow(settings: Settings, *, limit: int | None, page_size: int | None, cursor: str | None) -> Flow[None]:
    return pages(settings, "/v1/batches", Batch.model_validate, limit=limit, page_size=page_size, cursor=cursor)


def wait_flow(
    settings: Settings,
    batch_id: str,
    *,
    on_progress: OnProgress | None,
    timeout: float | None,
    poll_interval: float,
) -> Flow[Batch]:
    """Poll until final, telling ``on_progress`` each time the status or the counts change.

    With a ``timeout``, every GET (its retries and their sleeps too) is bounded by it; one that fails for
    lack of time is a ``BatchTimeout`` with the last state seen.
    """
    deadline = Deadline(timeout)
    seen: tuple[str, int, int, int] | None = None
    last: Batch | None = None
    while True:
        try:
            batch = yield from get_flow(settings, batch_id, deadline)
        except InfergateError as error:
            if last is not None and deadline.passed():
                raise BatchTimeout(last) from error
            raise
        last = batch
        counts = batch.request_counts
        progress = (batch.status, counts.total, counts.completed, counts.failed)
        if on_progress is not None and progress != seen:
            yield Notify(on_progress, batch)
        seen = progress
        if batch.is_final:
            return batch
        if deadline.passed():
            raise BatchTimeout(batch)
        yield Sleep(deadline.nap(poll_interval))


RESULT_KINDS: tuple[ResultKind, ...] = ("all", "output", "errors")


def results_flow(settings: Settings, batch_id: str, kind: ResultKind) -> Flow[None]:
    """Each line of the output file, then of the error file (parsed JSON), streamed from their presigned URLs.

    A line is yielded as the file holds it. In the combined stream (``kind="all"``) an OpenAI-dialect
    output line (``{"response": {...}, "error": null}``) has an ``error`` member too: ask for
    ``kind="output"`` or ``kind="errors"`` to know which file a line came from.
    """
    if kind not in RESULT_KINDS:
        raise InvalidRequest(f"kind must be one of {', '.join(RESULT_KINDS)}, not {kind!r}")
    batch = yield from get_flow(settings, batch_id)
    urls = {"output": batch.output_url, "errors": batch.errors_url}
    if not batch.is_final and not any(urls.values()):
        raise BatchNotFinished(batch)
    for which in ("output", "errors"):
        url = urls[which]
        if url and kind in ("all", which):
            request = ApiRequest("GET", url=url)
            response = yield from send(settings, request, stream=True)
            yield from emit_lines(settings, request, response, f"{which} file")


class Batches:
    """Batches (``/v1/batches``)."""

    def __init__(self, driver: SyncDriver) -> None:
        self._driver = driver
        self._settings = driver.settings

    def create(
        self,
        model: str,
        rows: Iterable[Mapping[str, Any]] | None = None,
        path: Source | None = None,
        *,
        version: int | None = None,
        webhook: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Batch:
        """Upload the lines (``{"custom_id", "input"}`` rows, or a JSONL file) and start the batch."""
        return self._driver.run(
            create_flow(
                self._settings,
                model,
                rows,
                path,
                version=version,
                webhook=webhook,
                metadata=metadata,
            )
        )

    def get(self, batch_id: str) -> Batch:
        """The batch as it is now."""
        return self._driver.run(get_flow(self._settings, batch_id))

    def cancel(self, batch_id: str) -> Batch:
        """Stop running lines; those not run go to the error file (``canceled``)."""
        return self._driver.run(cancel_flow(self._settings, batch_id))

    def list(
        self, *, limit: int | None = None, page_size: int | None = None, cursor: str | None = None
    ) -> Iterator[Batch]:
        """Your batches, newest first, following ``next`` cursors; at most ``limit`` of them."""
        return self._driver.iterate(list_flow(self._settings, limit=limit, page_size=page_size, cursor=cursor))

    def wait(
        self,
        batch_id: str,
        *,
        on_progress: Callable[[Batch], object] | None = None,
        timeout: float | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> Batch:
        """Poll until final; ``on_progress(batch)`` on each change; ``BatchTimeout`` after ``timeout`` seconds."""
        return self._driver.run(
            wait_flow(self._settings, batch_id, on_progress=on_progress, timeout=timeout, poll_interval=poll_interval)
        )

    def results(self, batch_id: str, *, kind: ResultKind = "all") -> Iterator[dict[str, Any]]:
        """The output lines (``{"custom_id", "output"}``) then the error lines (``{"custom_id", "error"}``).

        ``kind="output"`` or ``kind="errors"`` reads one file only: the way to tell an output line from an
        error line (an OpenAI-dialect output line carries ``"error": null``).
        """
        return self._driver.iterate(results_flow(self._settings, batch_id, kind))


class AsyncBatches:
    """Batches (``/v1/batches``), async flavour."""

    def __init__(self, driver: AsyncDriver) -> None:
        self._driver = driver
        self._settings = driver.settings

    async def create(
        self,
        model: str,
        rows: Iterable[Mapping[str, Any]] | None = None,
        path: Source | None = None,
        *,
        version: int | None = None,
        webhook: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Batch:
        """Upload the lines (``{"custom_id", "input"}`` rows, or a JSONL file) and start the batch."""
        return await self._driver.run(
            create_flow(
                self._settings,
                model,
                rows,
                path,
                version=version,
                webhook=webhook,
                metadata=metadata,
            )
        )

    async def get(self, batch_id: str) -> Batch:
        """The batch as it is now."""
        return await self._driver.run(get_flow(self._settings, batch_id))

    async def cancel(self, batch_id: str) -> Batch:
        """Stop running lines; those not run go to the error file (``canceled``)."""
        return await self._driver.run(cancel_flow(self._settings, batch_id))

    def list(
        self, *, limit: int | None = None, page_size: int | None = None, cursor: str | None = None
    ) -> AsyncIterator[Batch]:
        """Your batches, newest first, following ``next`` cursors; at most ``limit`` of them."""
        return self._driver.iterate(list_flow(self._settings, limit=limit, page_size=page_size, cursor=cursor))

    async def wait(
        self,
        batch_id: str,
        *,
        on_progress: OnProgress | None = None,
        timeout: float | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> Batch:
        """Poll until final; ``on_progress(batch)`` (awaited if async) on each change; ``BatchTimeout`` on time."""
        return await self._driver.run(
            wait_flow(self._settings, batch_id, on_progress=on_progress, timeout=timeout, poll_interval=poll_interval)
        )

    def results(self, batch_id: str, *, kind: ResultKind = "all") -> AsyncGenerator[dict[str, Any], None]:
        """The output lines (``{"custom_id", "output"}``) then the error lines (``{"custom_id", "error"}``).

        ``kind="output"`` or ``kind="errors"`` reads one file only: the way to tell an output line from an
        error line (an OpenAI-dialect output line carries ``"error": null``).

        Leaving an ``async for`` early closes the download when asyncio finalises the iterator (a turn or
        two of the event loop later); ``async with contextlib.aclosing(client.batches.results(id)) as lines``
        closes it at once.
        """
        return self._driver.iterate(results_flow(self._settings, batch_id, kind))
