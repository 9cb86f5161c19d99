"""``POST /v1/embeddings`` over the local stack, driven by OpenAI's own Python SDK, unchanged.

The tiny text model the tests build is registered over HTTP like any model; the SDK then embeds with it in
its default encoding (it asks for base64 and decodes it) and in ``float``, and must get the vectors the sync
predict route gives, and its own error classes for our errors.
"""

import json
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from tests.e2e.conftest import LocalStack
from tests.support import text_models

pytestmark = pytest.mark.e2e

MODEL = "e2e-embed"
TEXTS = ["The cat sat on the mat.", "日本語 über café 😀", "hello world"]


@pytest.fixture(scope="module")
def admin(local_stack: LocalStack) -> httpx.Client:
    return local_stack.client(local_stack.admin_key)


@pytest.fixture(scope="module")
def registered(admin: httpx.Client) -> str:
    return text_models.register_over_http(admin, MODEL)


def _client(local_stack: LocalStack, key: str | None = None) -> OpenAI:
    # No retries: a 429 or 5xx must show, not be retried away.
    return OpenAI(base_url=local_stack.base_url + "/v1", api_key=key or local_stack.admin_key, max_retries=0)


def test_the_openai_sdk_embeds_in_its_default_encoding_and_in_float_as_the_predict_route_does(
    local_stack: LocalStack, admin: httpx.Client, registered: str
) -> None:
    client = _client(local_stack)

    raw = client.embeddings.with_raw_response.create(model=registered, input=TEXTS)
    default = raw.parse()
    floats = client.embeddings.create(model=registered, input=TEXTS, encoding_format="float")
    predicted = [admin.post(f"/v1/models/{registered}/predict", json={"input": {"text": t}}) for t in TEXTS]

    # The SDK asked for base64 by default and got it, then decoded it (little-endian float32).
    assert json.loads(raw.http_request.content)["encoding_format"] == "base64"
    assert all(isinstance(item["embedding"], str) for item in raw.http_response.json()["data"])
    tokens = sum(text_models.token_count(text) for text in TEXTS)
    for response in (default, floats):
        assert (response.object, response.model) == ("list", f"{registered}:1")
        assert (response.usage.prompt_tokens, response.usage.total_tokens) == (tokens, tokens)
        assert [item.index for item in response.data] == [0, 1, 2]
        for item, sync in zip(response.data, predicted, strict=True):
            assert sync.status_code == 200, sync.text
            assert len(item.embedding) == text_models.DIM
            assert item.embedding == pytest.approx(sync.json()["output"]["embedding"], abs=1e-6)
    single = client.embeddings.create(model=registered, input=TEXTS[1], encoding_format="float")
    assert single.data[0].embedding == pytest.approx(text_models.expected_embedding(TEXTS[1]), abs=1e-6)


def test_a_bad_key_is_the_sdk_s_authentication_error(local_stack: LocalStack, registered: str) -> None:
    with pytest.raises(openai.AuthenticationError) as refused:
        _client(local_stack, "igk_notakey000000000000000000000000000").embeddings.create(model=registered, input="a")

    assert (refused.value.status_code, refused.value.code) == (401, "invalid_api_key")


def test_an_unknown_model_is_the_sdk_s_not_found_error(local_stack: LocalStack) -> None:
    with pytest.raises(openai.NotFoundError) as refused:
        _client(local_stack).embeddings.create(model="no-such-embedder", input="a")

    assert refused.value.code == "model_not_found"
    assert "There is no model 'no-such-embedder'." in refused.value.message


BAD_REQUESTS: dict[str, tuple[dict[str, Any], str]] = {
    "token ids (what LangChain sends by default)": (
        {"input": [[9906, 1917], [15339]]},
        "check_embedding_ctx_length=False",
    ),
    "2,049 texts": ({"input": ["a"] * 2049}, "at most 2048 texts; this request has 2049"),
    "an empty string": ({"input": ""}, "cannot be an empty string"),
    "an empty string among texts": ({"input": ["a", ""]}, "/input/1 is empty"),
    "over the model's tokens": (
        {"input": "the cat sat on the mat " * 10},
        f"maximum context length is {text_models.MAX_POSITIONS} tokens",
    ),
    "a shorter vector": ({"input": "a", "dimensions": 4}, "does not support shortening"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_what_the_service_refuses_is_the_sdk_s_bad_request_error(
    local_stack: LocalStack, registered: str, case: str
) -> None:
    arguments, says = BAD_REQUESTS[case]

    with pytest.raises(openai.BadRequestError) as refused:
        _client(local_stack).embeddings.create(model=registered, **arguments)

    assert refused.value.status_code == 400
    assert refused.value.type == "invalid_request_error"
    assert refused.value.param == ("dimensions" if "dimensions" in arguments else "input")
    assert says in refused.value.message


def test_2048_texts_with_unicode_are_embedded_in_one_request(local_stack: LocalStack, registered: str) -> None:
    texts = [f"{n} café 日本 😀" for n in range(2048)]

    response = _client(local_stack).embeddings.create(model=registered, input=texts)

    assert [item.index for item in response.data] == list(range(2048))
    assert response.data[2047].embedding == pytest.approx(text_models.expected_embedding(texts[2047]), abs=1e-6)
    assert response.usage.prompt_tokens == sum(text_models.token_count(text) for text in texts)
