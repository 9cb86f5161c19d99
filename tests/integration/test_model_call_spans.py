"""With tracing on, every route that runs a model records the call as a ``model.predict`` span naming the
tenant, the model and its version, and never the inputs: the sync predict route, OIP infer and embeddings."""

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.kernel import tracing
from tests.conftest import Credential
from tests.support.events import bearer
from tests.support.gateway import call
from tests.support.registry_flow import register_text_model
from tests.support.spans import recorded_spans

SECRET_TEXT = "a sentence nobody may read in a span"


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    with recorded_spans() as exporter:
        yield exporter


def _model_calls(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    tracing.flush()
    return [span for span in exporter.get_finished_spans() if span.name == tracing.MODEL_CALL_SPAN]


def _assert_model_call(span: ReadableSpan, model: str, version: int, inputs: int) -> None:
    assert dict(span.attributes or {}) == {
        tracing.TENANT: "acme",
        tracing.MODEL: model,
        tracing.MODEL_VERSION: version,
        "infergate.inputs": inputs,
    }
    assert SECRET_TEXT not in repr(span.to_json())


def test_the_sync_route_oip_and_embeddings_each_record_their_model_call(
    admin: Credential, exported: InMemorySpanExporter
) -> None:
    register_text_model(admin.secret, "tiny-embed")
    exported.clear()

    predicted = call("POST", "/v1/models/sentiment/predict", body={"input": {"text": SECRET_TEXT}}, **_auth(admin))
    inferred = call(
        "POST",
        "/v2/models/sentiment/infer",
        body={"inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": [SECRET_TEXT, "fine"]}]},
        **_auth(admin),
    )
    embedded = call(
        "POST", "/v1/embeddings", body={"model": "tiny-embed", "input": [SECRET_TEXT, "b", "c"]}, **_auth(admin)
    )

    assert [predicted["statusCode"], inferred["statusCode"], embedded["statusCode"]] == [200, 200, 200]
    sync, oip, embeddings = _model_calls(exported)
    _assert_model_call(sync, "sentiment", 1, 1)
    _assert_model_call(oip, "sentiment", 1, 2)
    _assert_model_call(embeddings, "tiny-embed", 1, 3)


def _auth(admin: Credential) -> dict[str, dict[str, str]]:
    return {"headers": bearer(admin.secret)}
