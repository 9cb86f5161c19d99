"""``Infergate`` and ``AsyncInfergate``: the settings, the HTTP client, and a resource for each part of the API."""

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from infergate._config import DEFAULT_MAX_RETRIES, settings
from infergate._drivers import AsyncDriver, SyncDriver
from infergate.resources.batches import AsyncBatches, Batches
from infergate.resources.keys import AsyncKeys, Keys
from infergate.resources.models import AsyncModels, Models
from infergate.resources.predictions import DEFAULT_POLL_INTERVAL, DEFAULT_RUN_TIMEOUT, AsyncPredictions, Predictions
from infergate.resources.predictions import run_flow as _run_flow
from infergate.resources.webhooks import AsyncWebhooks, Webhooks


class Infergate:
    """A client of the Infergate API.

    ``base_url`` and ``api_key`` default to ``INFERGATE_BASE_URL`` and ``INFERGATE_API_KEY``. Calls are
    retried at most ``max_retries`` times on connection errors, 429, 502, 503 and 504. An ``http_client``
    you pass is used as it is and left open by ``close()``.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._settings = settings(base_url, api_key, timeout, max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self._settings.timeout)
        driver = SyncDriver(self._settings, self._http)
        self._driver = driver
        self.predictions = Predictions(driver)
        self.models = Models(driver)
        self.batches = Batches(driver)
        self.keys = Keys(driver)
        self.webhooks = Webhooks(driver)

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    def run(
        self,
        model: str,
        input: Mapping[str, Any],
        *,
        version: int | None = None,
        timeout: float = DEFAULT_RUN_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> dict[str, Any]:
        """Run a prediction to the end and answer its output.

        Raises ``PredictionFailed``, ``PredictionCanceled``, or ``PredictionTimeout`` after ``timeout`` seconds.
        """
        return self._driver.run(
            _run_flow(self._settings, model, input, version=version, timeout=timeout, poll_interval=poll_interval)
        )

    def close(self) -> None:
        """Close the HTTP client (unless it was given)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class AsyncInfergate:
    """A client of the Infergate API with async methods; otherwise as ``Infergate``."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._settings = settings(base_url, api_key, timeout, max_retries)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self._settings.timeout)
        driver = AsyncDriver(self._settings, self._http)
        self._driver = driver
        self.predictions = AsyncPredictions(driver)
        self.models = AsyncModels(driver)
        self.batches = AsyncBatches(driver)
        self.keys = AsyncKeys(driver)
        self.webhooks = AsyncWebhooks(driver)

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    async def run(
        self,
        model: str,
        input: Mapping[str, Any],
        *,
        version: int | None = None,
        timeout: float = DEFAULT_RUN_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> dict[str, Any]:
        """Run a prediction to the end and answer its output (see ``Infergate.run``)."""
        return await self._driver.run(
            _run_flow(self._settings, model, input, version=version, timeout=timeout, poll_interval=poll_interval)
        )

    async def close(self) -> None:
        """Close the HTTP client (unless it was given)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()
