"""A 10,000-line embeddings batch through OpenAI's Batch API dialect, beside 10,000 ``/v1/embeddings`` calls
and beside OpenAI's batch price for the same tokens.

    .venv/bin/python -m bench.openai_batch [--lines 10000] [--calls 10000] [--priced-calls 300]
        [--models-dir .aws-sam/models] [--concurrency 4]

Wall time, on the local stack (``make dev``'s command, over real HTTP, with the real ``openai`` SDK): the
batch is ``files.create`` of the JSONL, ``batches.create``, ``batches.retrieve`` every half second until it
is final, and ``files.content`` of its output file; the baseline sends the same texts as ``--calls``
``client.embeddings.create`` requests of one text each, from ``--concurrency`` threads (the local stack
serves each request on its own thread; its rate limits are raised so that neither path is throttled).
Both run the built-in ``all-minilm-l6-v2`` on this machine's two cores; the figure is the ratio of the
two wall times measured in the same run.

AWS requests and list price, on the real handlers in this process on moto (as ``bench.batch_cost``):
``POST /v1/files`` (a multipart event, base64-encoded as API Gateway sends it), ``POST /v1/batches``,
every queue message delivered to its function in SQS-trigger batches, one ``GET /v1/batches/{id}``,
``GET /v1/files/{id}/content`` and the client's S3 GET it is redirected to. The baseline serves
``--priced-calls`` ``POST /v1/embeddings`` requests and scales them to ``--lines``, one call per line (a
request's calls do not depend on how many there are). Lambda is priced from each invocation's measured duration at its
function's ``MemorySize`` (arm64 list price): moto's time is included, so the figure is an upper bound for
both paths alike.

OpenAI's price for the same tokens: ``text-embedding-3-small`` at its list price and at the Batch API's
half price. The tokens are the batch's own ``usage.prompt_tokens`` (the built-in model's WordPiece
tokenizer; OpenAI counts with tiktoken, whose counts for English text differ by a few per cent).
"""

import argparse
import base64
import io
import json
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.aws_calls import PRICES, REQUEST_KINDS, counting, fake_aws_environment
from bench.batch_cost import cost, drain, provision
from bench.embeddings import EXAMPLE_KEY, OPENAI_PER_MILLION, api_event, texts, unthrottled
from tools.template import ROOT, load_template

MODEL = "all-minilm-l6-v2"
BATCH_DISCOUNT = 0.5  # OpenAI's Batch API price: half of the synchronous list price
ADMIN_KEY = "igk_benchadminkey0000000000000000000000"
POLL_SECONDS = 0.5


def jsonl(lines: list[str]) -> bytes:
    """The batch input: one ``/v1/embeddings`` request per text, in OpenAI's batch line format."""
    rows = (
        {"custom_id": f"row-{n}", "method": "POST", "url": "/v1/embeddings", "body": {"model": MODEL, "input": text}}
        for n, text in enumerate(lines)
    )
    return b"".join(json.dumps(row).encode() + b"\n" for row in rows)


def prompt_tokens(output: bytes) -> int:
    """The tokens every output line's embeddings response reports."""
    total = 0
    for raw in output.splitlines():
        if raw.strip():
            total += int(json.loads(raw)["response"]["body"]["usage"]["prompt_tokens"])
    return total


# ---------------------------------------------------------------- wall time, over the local stack


@dataclass(frozen=True)
class WallTimes:
    batch_seconds: float
    calls_seconds: float
    lines: int
    calls: int
    tokens: int


@contextmanager
def local_stack(models_dir: Path) -> Iterator[str]:
    from tools.stack_process import running_stack

    names = ("RATE_LIMIT_PER_SECOND", "RATE_LIMIT_BURST", "TENANT_RATE_LIMIT_PER_SECOND", "TENANT_RATE_LIMIT_BURST")
    limits = dict.fromkeys(names, "100000")
    with (
        tempfile.TemporaryDirectory(prefix="infergate-bench-stack-") as folder,
        running_stack(Path(folder), limits, ADMIN_KEY, models_dir) as stack,
    ):
        yield stack.base_url


def time_batch(client: Any, data: bytes, lines: int) -> tuple[float, int]:
    """Seconds from ``files.create`` to the output file's bytes, and the tokens the output reports."""
    began = time.perf_counter()
    uploaded = client.files.create(file=("bench.jsonl", data), purpose="batch")
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/embeddings", completion_window="24h")
    while batch.status not in ("completed", "failed", "expired", "cancelled"):
        time.sleep(POLL_SECONDS)
        batch = client.batches.retrieve(batch.id)
    if batch.status != "completed" or batch.request_counts.completed != lines:
        raise RuntimeError(f"the batch ended {batch.status} with {batch.request_counts}: {batch.errors}")
    output = client.files.content(batch.output_file_id).read()
    return time.perf_counter() - began, prompt_tokens(output)


def time_calls(client: Any, pool: list[str], concurrency: int) -> float:
    """Seconds for one ``embeddings.create`` per text of ``pool``, from ``concurrency`` threads."""
    queue = iter(enumerate(pool))
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work() -> None:
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                return
            try:
                client.embeddings.create(model=MODEL, input=item[1])
            except BaseException as failed:  # noqa: BLE001 - reported after the threads end
                failures.append(failed)
                return

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"an embeddings call failed: {failures[0]!r}")
    return time.perf_counter() - began


def measure_wall_times(models_dir: Path, lines: int, calls: int, concurrency: int) -> WallTimes:
    from openai import OpenAI

    pool = texts(max(lines, calls))
    with local_stack(models_dir) as base_url:
        client = OpenAI(base_url=f"{base_url}/v1", api_key=ADMIN_KEY, max_retries=0, timeout=120)
        client.embeddings.create(model=MODEL, input="warm the model up")  # both paths then find it loaded
        batch_seconds, tokens = time_batch(client, jsonl(pool[:lines]), lines)
        calls_seconds = time_calls(client, pool[:calls], concurrency)
    return WallTimes(batch_seconds, calls_seconds, lines, calls, tokens)


# ---------------------------------------------------------------- AWS requests and price, on the handlers


@dataclass(frozen=True)
class Priced:
    units: dict[str, int]
    requests_price: float  # API Gateway, DynamoDB, S3, SQS
    lambda_requests: int
    gb_seconds: float

    @property
    def total(self) -> float:
        return (
            self.requests_price
            + self.lambda_requests * PRICES["lambda:request"]
            + self.gb_seconds * PRICES["lambda:gb-second"]
        )


class LambdaMeter:
    """Serves requests and queue events on the handlers in this process, counting each function's
    invocations and GB-seconds (its measured duration at its template MemorySize)."""

    def __init__(self) -> None:
        self.invocations: Counter[str] = Counter()
        self.gb_seconds = 0.0
        self._template = load_template()

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        from tools.lambda_runtime import invoke

        spec = self._template.function(logical_id)
        began = time.perf_counter()
        try:
            return invoke(spec, event)
        finally:
            self.invocations[logical_id] += 1
            self.gb_seconds += (time.perf_counter() - began) * spec.memory_size / 1024

    def request(self, event: dict[str, Any], expected: int) -> Any:
        """The API function API Gateway routes ``event`` to; its decoded answer, which must be ``expected``."""
        from tools.invoke import decoded_body
        from tools.local_api import route_of

        http = event["requestContext"]["http"]
        spec, _ = route_of(self._template, http["method"], http["path"])
        response = self.invoke(spec.logical_id, event)
        if response["statusCode"] != expected:
            raise RuntimeError(f"{http['method']} {http['path']}: {response['statusCode']} {decoded_body(response)}")
        return response if expected in (302, 303, 307) else decoded_body(response)


def multipart_event(path: str, data: bytes, filename: str) -> dict[str, Any]:
    """``files.create``'s request as API Gateway hands it to Lambda: the multipart body base64-encoded."""
    request = httpx.Request(
        "POST", f"https://example.com{path}", files={"file": (filename, data)}, data={"purpose": "batch"}
    )
    body = request.read()
    event = api_event("POST", path, {})
    event["headers"] |= {"content-type": request.headers["content-type"], "content-length": str(len(body))}
    event["body"] = base64.b64encode(body).decode("ascii")
    event["isBase64Encoded"] = True
    return event


def _seeded_stack(prefix: str, models_dir: Path) -> None:
    from shared.keys.models import Scope
    from shared.wiring import key_service
    from tools.invoke import EXAMPLE_TENANT

    provision(prefix, **unthrottled(), BUILTIN_MODELS_DIR=str(models_dir))
    key_service().import_secret(EXAMPLE_TENANT, "bench", [Scope.ADMIN], EXAMPLE_KEY)


def price_batch(lines: list[str], models_dir: Path) -> Priced:
    import boto3

    from shared.settings import BucketSettings, settings

    meter = LambdaMeter()
    _seeded_stack("bench-openai-batch", models_dir)
    with counting() as calls:
        created = meter.request(multipart_event("/v1/files", jsonl(lines), "bench.jsonl"), 200)
        body = {"input_file_id": created["id"], "endpoint": "/v1/embeddings", "completion_window": "24h"}
        batch = meter.request(api_event("POST", "/v1/batches", body), 201)
        messages = 0
        while moved := drain("BatchesQueue", "ProcessBatchesFunction", meter.invoke) + drain(
            "PredictionsQueue", "RunPredictionsFunction", meter.invoke
        ):
            messages += moved
        finished = meter.request(api_event("GET", f"/v1/batches/{batch['id']}", None), 200)
        if finished["status"] != "completed":
            raise RuntimeError(f"the batch ended {finished['status']}: {finished.get('errors')}")
        redirect = meter.request(api_event("GET", f"/v1/files/{finished['output_file_id']}/content", None), 307)
        bucket = settings(BucketSettings).bucket_name  # the client's GET of the presigned URL (path or host style)
        key = httpx.URL(redirect["headers"]["location"]).path.lstrip("/").removeprefix(f"{bucket}/")
        boto3.client("s3").get_object(Bucket=bucket, Key=key)
    calls[("sqs", "Lambda poller (receive + delete)")] += 2 * -(-messages // 10)
    for operation in ("ReceiveMessage", "DeleteMessage"):
        calls.pop(("sqs", operation), None)
    units, requests_price = cost(calls, api_requests=4)  # through the handlers: auth and limits counted
    return Priced(units, requests_price, sum(meter.invocations.values()), meter.gb_seconds)


def price_calls(pool: list[str], scale_to: int, models_dir: Path) -> Priced:
    meter = LambdaMeter()
    _seeded_stack("bench-openai-calls", models_dir)
    meter.request(api_event("POST", "/v1/embeddings", {"model": MODEL, "input": "warm up"}), 200)  # not priced
    meter = LambdaMeter()
    with counting() as calls:
        for text in pool:
            meter.request(api_event("POST", "/v1/embeddings", {"model": MODEL, "input": text}), 200)
    factor = scale_to / len(pool)
    scaled = Counter({key: round(value * factor) for key, value in calls.items()})
    units, requests_price = cost(scaled, api_requests=scale_to)
    return Priced(units, requests_price, scale_to, meter.gb_seconds * factor)


# ---------------------------------------------------------------- the tables


def openai_prices(tokens: int) -> tuple[float, float]:
    """OpenAI's ``text-embedding-3-small``: the synchronous list price and the Batch API's, for ``tokens``."""
    synchronous = tokens / 1e6 * OPENAI_PER_MILLION
    return synchronous, synchronous * BATCH_DISCOUNT


def table(walls: WallTimes, batch: Priced, calls: Priced) -> str:
    synchronous, batched = openai_prices(walls.tokens)
    rows = [
        "| | one OpenAI-dialect batch | single `/v1/embeddings` calls | ratio (calls / batch) |",
        "|---|---:|---:|---:|",
        f"| texts | {walls.lines:,} | {walls.calls:,} | |",
        f"| wall time on the local stack | {walls.batch_seconds:.1f} s | {walls.calls_seconds:.1f} s | "
        f"{_ratio(walls.calls_seconds / walls.calls * walls.lines, walls.batch_seconds)} |",
    ]
    for label, kind in REQUEST_KINDS:
        b, c = batch.units.get(kind, 0), calls.units.get(kind, 0)
        rows.append(f"| {label} | {b:,} | {c:,} | {_ratio(c, b)} |")
    rows.append(
        f"| Lambda invocations | {batch.lambda_requests:,} | {calls.lambda_requests:,} | "
        f"{_ratio(calls.lambda_requests, batch.lambda_requests)} |"
    )
    rows.append(
        f"| Lambda GB-seconds (moto included) | {batch.gb_seconds:,.1f} | {calls.gb_seconds:,.1f} | "
        f"{_ratio(calls.gb_seconds, batch.gb_seconds)} |"
    )
    rows.append(
        f"| **AWS list price** | **${batch.total:.4f}** | **${calls.total:.4f}** | "
        f"**{_ratio(calls.total, batch.total)}** |"
    )
    rows.append(
        f"| OpenAI `text-embedding-3-small`, {walls.tokens:,} tokens | ${batched:.4f} (Batch API) | "
        f"${synchronous:.4f} | |"
    )
    return "\n".join(rows)


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x" if denominator and numerator else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--priced-calls", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--models-dir", type=Path, default=ROOT / ".aws-sam" / "models")
    parser.add_argument("--json", type=Path, help="also write the key figures to this file (for `python -m bench`)")
    args = parser.parse_args()
    walls = measure_wall_times(args.models_dir, args.lines, args.calls, args.concurrency)
    pool = texts(args.lines)
    fake_aws_environment()
    from moto import mock_aws

    with mock_aws(), redirect_stdout(io.StringIO()):  # the functions' metric lines (EMF) go to stdout
        batch = price_batch(pool, args.models_dir)
    with mock_aws(), redirect_stdout(io.StringIO()):
        calls = price_calls(pool[: args.priced_calls], args.lines, args.models_dir)  # as many calls as lines
    print(f"\n{args.lines:,} texts embedded by `{MODEL}`: one batch against single calls, same run\n")  # noqa: T201
    print(table(walls, batch, calls))  # noqa: T201
    if args.json:
        synchronous, batched = openai_prices(walls.tokens)
        figures = {
            "wall_ratio": walls.calls_seconds / walls.calls * walls.lines / walls.batch_seconds,
            "batch_seconds": walls.batch_seconds,
            "batch_price": batch.total,
            "calls_price": calls.total,
            "openai_batch_price": batched,
            "openai_price": synchronous,
            "tokens": walls.tokens,
            "lines": walls.lines,
        }
        args.json.write_text(json.dumps(figures), encoding="utf-8")


if __name__ == "__main__":
    main()
