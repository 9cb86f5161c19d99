"""``client.models``: the registry, synchronous predictions, and pushing your own model versions."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infergate._config import Settings
from infergate._drivers import AsyncDriver, SyncDriver
from infergate._flow import Flow, call_as
from infergate._request import ApiRequest, post, segment
from infergate.models import Model, ModelVersion, SyncPrediction, TextOptions
from infergate.resources._uploads import Source, source_of, upload_flow
from infergate.resources.predictions import model_ref

_ARCHIVE_TYPES = {".zip": "application/zip", ".gz": "application/gzip", ".tgz": "application/gzip"}
_MAGIC = {b"PK": "application/zip", b"\x1f\x8b": "application/gzip"}


def list_flow(settings: Settings) -> Flow[list[Model]]:
    return (yield from call_as(settings, ApiRequest("GET", "/v1/models"), _models))


def _models(body: Any) -> list[Model]:
    return [Model.model_validate(item) for item in body.get("results", [])]


def get_flow(settings: Settings, name: str, version: int | None) -> Flow[Model]:
    request = ApiRequest("GET", f"/v1/models/{segment(model_ref(name, version))}")
    return (yield from call_as(settings, request, Model.model_validate))


def predict_flow(settings: Settings, name: str, input: Mapping[str, Any], version: int | None) -> Flow[SyncPrediction]:
    # Running a model twice has no effect beyond the answer: safe to retry.
    request = post(f"/v1/models/{segment(model_ref(name, version))}/predict", {"input": dict(input)}, replayable=True)
    return (yield from call_as(settings, request, SyncPrediction.model_validate))


def push_flow(
    settings: Settings,
    name: str,
    source: Source,
    *,
    input_schema: Mapping[str, Any] | None,
    output_schema: Mapping[str, Any] | None,
    text: TextOptions | Mapping[str, Any] | None,
    description: str,
    content_type: str | None,
) -> Flow[ModelVersion]:
    """Upload the ``.onnx`` file (with its schemas) or the text model's archive (with ``text``), then register it."""
    path = f"/v1/models/{segment(name)}/versions"
    content = source_of(source)
    options = TextOptions.model_validate(text) if text is not None and not isinstance(text, TextOptions) else text
    if options is None and (input_schema is None or output_schema is None):
        raise ValueError("an ONNX model needs input_schema and output_schema; a text model archive needs text=...")
    if options is not None and (input_schema is not None or output_schema is not None):
        raise ValueError("a text model's schemas follow from its task: leave input_schema and output_schema out")
    kind = content_type or (_archive_type(content) if options is not None else "application/octet-stream")
    upload = yield from upload_flow(settings, "model_artifact", kind, content)
    body: dict[str, Any] = {"upload_id": upload.id, "description": description}
    if options is not None:
        body |= {"runtime": "text", "text": options.model_dump(exclude_none=True)}
    else:
        schemas = {"input_schema": dict(input_schema or {}), "output_schema": dict(output_schema or {})}
        body |= {"runtime": "onnx", **schemas}
    # Registering twice would make two versions: only retried when the request surely did not arrive.
    request = post(path, body, replayable=False)
    return (yield from call_as(settings, request, ModelVersion.model_validate))


def _archive_type(content: bytes | Path) -> str:
    """``application/zip`` or ``application/gzip``, from the name's suffix or the first bytes."""
    if isinstance(content, Path):
        if content.suffix.lower() in _ARCHIVE_TYPES:
            return _ARCHIVE_TYPES[content.suffix.lower()]
        with content.open("rb") as file:
            head = file.read(2)
    else:
        head = content[:2]
    return _MAGIC.get(head, "application/gzip")


class Models:
    """The model registry (``/v1/models``)."""

    def __init__(self, driver: SyncDriver) -> None:
        self._driver = driver
        self._settings = driver.settings

    def list(self) -> list[Model]:
        """Every model you can use: the built-ins and your own."""
        return self._driver.run(list_flow(self._settings))

    def get(self, name: str, *, version: int | None = None) -> Model:
        """A model and its versions (only ``version``, when given; ``name:3`` works too)."""
        return self._driver.run(get_flow(self._settings, name, version))

    def predict(self, name: str, input: Mapping[str, Any], *, version: int | None = None) -> SyncPrediction:
        """Run the model now and answer its output (``POST /v1/models/{name}/predict``)."""
        return self._driver.run(predict_flow(self._settings, name, input, version))

    def push(
        self,
        name: str,
        source: Source,
        *,
        input_schema: Mapping[str, Any] | None = None,
        output_schema: Mapping[str, Any] | None = None,
        text: TextOptions | Mapping[str, Any] | None = None,
        description: str = "",
        content_type: str | None = None,
    ) -> ModelVersion:
        """Upload an ONNX file (give its schemas) or a text model archive (give ``text``) as the next version."""
        return self._driver.run(
            push_flow(
                self._settings,
                name,
                source,
                input_schema=input_schema,
                output_schema=output_schema,
                text=text,
                description=description,
                content_type=content_type,
            )
        )


class AsyncModels:
    """The model registry (``/v1/models``), async flavour."""

    def __init__(self, driver: AsyncDriver) -> None:
        self._driver = driver
        self._settings = driver.settings

    async def list(self) -> list[Model]:
        """Every model you can use: the built-ins and your own."""
        return await self._driver.run(list_flow(self._settings))

    async def get(self, name: str, *, version: int | None = None) -> Model:
        """A model and its versions (only ``version``, when given; ``name:3`` works too)."""
        return await self._driver.run(get_flow(self._settings, name, version))

    async def predict(self, name: str, input: Mapping[str, Any], *, version: int | None = None) -> SyncPrediction:
        """Run the model now and answer its output (``POST /v1/models/{name}/predict``)."""
        return await self._driver.run(predict_flow(self._settings, name, input, version))

    async def push(
        self,
        name: str,
        source: Source,
        *,
        input_schema: Mapping[str, Any] | None = None,
        output_schema: Mapping[str, Any] | None = None,
        text: TextOptions | Mapping[str, Any] | None = None,
        description: str = "",
        content_type: str | None = None,
    ) -> ModelVersion:
        """Upload an ONNX file (give its schemas) or a text model archive (give ``text``) as the next version."""
        return await self._driver.run(
            push_flow(
                self._settings,
                name,
                source,
                input_schema=input_schema,
                output_schema=output_schema,
                text=text,
                description=description,
                content_type=content_type,
            )
        )
