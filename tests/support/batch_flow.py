"""The client side of a batch over HTTP: upload the JSONL file, create the batch, watch it, download."""

import json
import time
from typing import Any

import httpx

FINAL = {"completed", "failed", "expired", "cancelled"}


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def upload(client: httpx.Client, data: bytes) -> str:
    created = client.post(
        "/v1/uploads", json={"purpose": "batch_input", "content_type": "application/jsonl", "size": len(data)}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    put = httpx.put(body["url"], content=data, headers=body["headers"], timeout=30)  # straight to S3 (moto)
    assert put.status_code == 200, put.text
    return str(body["id"])


def create(client: httpx.Client, data: bytes, model: str = "sentiment", **extra: Any) -> dict[str, Any]:
    response = client.post("/v1/batches", json={"model": model, "input_upload_id": upload(client, data), **extra})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{str(client.base_url).rstrip('/')}/v1/batches/{response.json()['id']}"
    created: dict[str, Any] = response.json()
    return created


def watch(client: httpx.Client, batch_id: str, seconds: float = 120) -> list[dict[str, Any]]:
    """Every state the batch was seen in, polling until it is final."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch: dict[str, Any] = client.get(f"/v1/batches/{batch_id}").json()
        seen.append(batch)
        if batch["status"] in FINAL:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"batch not final after {seconds} s: {seen[-1]}")


def download(url: str | None) -> list[dict[str, Any]]:
    assert url is not None
    response = httpx.get(url, timeout=30)  # the presigned GET, as a user's browser or curl would
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def mixed(count: int) -> list[dict[str, Any]]:
    """Every 8th line's input breaks the sentiment model's schema (a per-line failure)."""
    return [
        {"custom_id": f"c-{n}", "input": {"words": "none"} if n % 8 == 0 else {"text": "Lovely, wonderful day!"}}
        for n in range(1, count + 1)
    ]


def unsigned(batch: dict[str, Any]) -> dict[str, Any]:
    """The batch with its presigned URLs cut to their paths: each answer signs them anew, and a signature
    covers the second it was made in."""
    return {key: value.split("?", 1)[0] if key.endswith("_url") and value else value for key, value in batch.items()}
