"""The built-in embedding model over the local stack, started as `make dev` starts it (the model read from the
tests' build of the layer's recipe): listed with its facts, and the same vector sync, async and in a batch."""

from typing import Any

import httpx
import numpy as np
import pytest
from openai import OpenAI

from tests.e2e.conftest import LocalStack
from tests.support import batch_flow

NAME = "all-minilm-l6-v2"
LONG = "Serverless inference keeps the embedding model small enough. " * 164  # 10,004 characters
TEXTS: list[dict[str, Any]] = [
    {"text": "A man is playing a guitar."},
    {"text": "Someone is playing the guitar."},
    {"text": "The stock market fell sharply today."},
    {"text": "Naïve café owners in Zürich serve crème brûlée ☕ and 日本語 menus."},
    {"text": ""},
    {"text": LONG, "truncate": True},
]


@pytest.fixture(scope="module")
def admin(local_stack: LocalStack) -> httpx.Client:
    return local_stack.client(local_stack.admin_key)


def test_the_built_in_is_listed_with_its_task_dimension_and_limit(admin: httpx.Client) -> None:
    listed = admin.get("/v1/models")

    assert listed.status_code == 200, listed.text
    [model] = [model for model in listed.json()["results"] if model["name"] == NAME]
    text = model["versions"][0]["text"]
    assert (text["task"], text["dimension"], text["max_tokens"], text["normalize"]) == (
        "feature-extraction",
        384,
        256,
        True,
    )


def test_the_built_in_embeds_alike_sync_async_and_in_a_batch(admin: httpx.Client) -> None:
    sync = [admin.post(f"/v1/models/{NAME}/predict", json={"input": text}) for text in TEXTS]
    queued = [
        admin.post("/v1/predictions", json={"model": NAME, "input": text}, headers={"Prefer": "wait=20"})
        for text in TEXTS
    ]
    lines = [{"custom_id": str(n), "input": text} for n, text in enumerate(TEXTS)]
    batch = batch_flow.create(admin, batch_flow.jsonl(lines), model=NAME)
    final = batch_flow.watch(admin, batch["id"])[-1]
    batched = {row["custom_id"]: row["output"] for row in batch_flow.download(final["output_url"])}
    too_long = admin.post(f"/v1/models/{NAME}/predict", json={"input": {"text": LONG}})

    for n in range(len(TEXTS)):
        assert sync[n].status_code == 200, sync[n].text
        output = sync[n].json()["output"]
        assert queued[n].json()["status"] == "succeeded", queued[n].text
        assert queued[n].json()["output"]["embedding"] == pytest.approx(output["embedding"], abs=1e-6)
        assert batched[str(n)]["embedding"] == pytest.approx(output["embedding"], abs=1e-6)
        assert queued[n].json()["output"]["tokens"] == batched[str(n)]["tokens"] == output["tokens"]
    guitar, paraphrase, unrelated = (np.asarray(sync[n].json()["output"]["embedding"]) for n in range(3))
    assert guitar @ paraphrase - guitar @ unrelated > 0.5
    assert sync[5].json()["output"]["tokens"] == 256
    assert final["status"] == "completed"
    assert too_long.status_code == 422
    assert "at most 256" in too_long.json()["detail"]


def test_the_openai_sdk_and_oip_get_the_built_ins_vectors(local_stack: LocalStack, admin: httpx.Client) -> None:
    """Issue 16, items 4, 5 and 7: the real openai SDK (its default base64 and "float") and OIP infer with a
    BYTES input give the sync route's vectors for the built-in, within 1e-6."""
    texts = [str(text["text"]) for text in TEXTS[:4]]  # OpenAI refuses empty strings and has no truncate
    sync = [admin.post(f"/v1/models/{NAME}/predict", json={"input": {"text": text}}).json() for text in texts]
    client = OpenAI(base_url=local_stack.base_url + "/v1", api_key=local_stack.admin_key, max_retries=0)

    default = client.embeddings.create(model=NAME, input=texts)
    floats = client.embeddings.create(model=NAME, input=texts, encoding_format="float")
    inferred = admin.post(
        f"/v2/models/{NAME}/infer",
        json={"inputs": [{"name": "text", "datatype": "BYTES", "shape": [len(texts)], "data": texts}]},
    )

    assert inferred.status_code == 200, inferred.text
    outputs = {output["name"]: output for output in inferred.json()["outputs"]}
    assert outputs["embedding"]["datatype"] == "FP32"
    oip = np.asarray(outputs["embedding"]["data"], dtype=np.float32).reshape(len(texts), -1)
    assert default.model == floats.model == f"{NAME}:1"
    assert default.usage.prompt_tokens == sum(result["output"]["tokens"] for result in sync)
    for n, result in enumerate(sync):
        expected = result["output"]["embedding"]
        assert default.data[n].embedding == pytest.approx(expected, abs=1e-6)
        assert floats.data[n].embedding == pytest.approx(expected, abs=1e-6)
        assert oip[n].tolist() == pytest.approx(expected, abs=1e-6)
    guitar, paraphrase, unrelated = (np.asarray(item.embedding) for item in floats.data[:3])
    assert guitar @ paraphrase - guitar @ unrelated > 0.5
