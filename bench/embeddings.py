"""The built-in embedding model (all-MiniLM-L6-v2, int8 weights) through the service, against raw ``tokenizers`` +
``onnxruntime`` on the same texts in the same run; its cold start, package sizes and cost per 1M tokens.

    .venv/bin/python -m bench.embeddings [--models-dir .aws-sam/models] [--texts 128]
        [--rounds 7] [--cold-runs 5] [--build-dir DIR | --no-package-sizes]

The model is the built-in ``all-minilm-l6-v2`` itself (``shared/registry/builtins.py``): nothing is
registered. The serving handlers read it from the folder ``BUILTIN_MODELS_DIR`` names, here
``--models-dir`` (default: the local stack's, ``INFERGATE_DEV_MODELS_DIR`` or ``.aws-sam/models``, which
``make embedding-model`` fills), as Lambda reads the EmbeddingModelLayer's ``/opt/models``; its manifest and
sha256s are checked there by ``shared/runtimes/builtin_text.py``.

Throughput, in this one process: a pool of ``--texts`` English texts (1 to 4 sentences each, every
window of 8 and 32 holding the same mix of lengths) is cut into windows of 1, 8 and 32 texts, and each
window is served four ways, every request naming ``all-minilm-l6-v2``:

- sync: ``PredictModelFunction``'s handler on an Open Inference Protocol infer request carrying the
  window as one BYTES tensor (the sync predict route takes one input per request; the OIP route of the
  same function takes rows, and runs them in one runtime call, as the worker's micro-batches);
- worker: ``RunPredictionsFunction``'s handler on an SQS event of the window's predictions (created
  through the real create handler). The deployed event source mapping delivers at most 10 records per
  event: 32 is the size batch chunks and a busier mapping would give, measured on the same handler;
- embeddings: ``CreateEmbeddingsFunction``'s handler on ``POST /v1/embeddings`` with the window as ``input``;
- raw: ``tokenizers`` (padding to the longest text of the window) + an onnxruntime session with the
  service's settings (``shared.runtimes.sessions.open_session``: CPU, one thread) on the same
  ``model.onnx`` + mean pooling and L2 normalisation in numpy: the least any server of this model must do.

Each service request is served once on moto while its AWS calls are recorded (``bench/fake_aws.py``),
then replayed from memory, so the figures time our code and the model, not moto. The four ways take
turns window by window (order rotating and reversing) so noise on this shared machine hits all alike; a
figure is the median over ``--rounds`` of the pool's texts divided by the time spent on it, and a way's time
over the raw baseline's is the median of the two's ratio in each round. The outputs
are checked: each way gives each text the same vector as raw (within 1e-5; the model's arithmetic is
float32, its int8 weights dequantised, so a text's vector does not depend on the rows it runs with), and
the largest difference found is printed.

Cold start: a fresh interpreter imports ``PredictModelFunction``'s module and serves its first request,
``POST /v1/models/all-minilm-l6-v2/predict`` with one text, on a moto server holding only the caller's key:
the model read from ``BUILTIN_MODELS_DIR`` (its sha256s checked, the tokenizer and session opened), as in
Lambda from the layer's ``/opt/models``; the median of ``--cold-runs``, against ``bench/cold_start.py``'s
floor (a bare boto3 ``GetItem`` + pydantic handler).

Package sizes: ``bench/package_size.py`` on the deployment ``sam build`` (or ``--build-dir``), the
functions that carry the EmbeddingModelLayer against Lambda's 250 MiB unzipped limit.

Cost per 1M input tokens: Lambda arm64 at the serving function's MemorySize in template.yaml for the
measured seconds per token at batch 32, plus the Lambda request price per invocation of 32 texts (and
API Gateway's per request for the sync route), beside OpenAI's ``text-embedding-3-small`` list price.
Measured on this machine's CPU, one thread: a Lambda vCPU at 2,048 MB (about 1.16 vCPU) is a different
core, so the cost is this run's estimate, not Lambda's bill.
"""

import argparse
import copy
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.aws_calls import PRICES
from shared.registry.builtins import EMBEDDING_MODEL
from tools.template import ROOT, load_template

MODEL_NAME = EMBEDDING_MODEL.name  # the built-in the requests name
BATCH_SIZES = (1, 8, 32)
SERVED = ("sync", "worker", "embeddings")  # the service's ways, each one function's handler
PATHS = (*SERVED, "raw")
SYNC_FUNCTION = "PredictModelFunction"
WORKER_FUNCTION = "RunPredictionsFunction"
EMBEDDINGS_FUNCTION = "CreateEmbeddingsFunction"
EMBEDDING_LAYER = "EmbeddingModelLayer"
TARGET_OVERHEAD = 1.10  # serving time / raw time at batch 32
TARGET_BATCH = 32
OPENAI_PER_MILLION = 0.02  # $ per 1M tokens, OpenAI text-embedding-3-small list price
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024  # function code plus all of its layers
AGREEMENT = 1e-5  # max |difference| between the ways' vectors for one text
EXAMPLE_KEY = "igk_exampleadminkey00000000000000000000"  # the committed events' bearer key (tenant example)


def unthrottled() -> dict[str, str]:
    """Rate limits the recording phase's requests pass, with bursts too small for leases of more than one
    token: the limiter makes its one conditional write at every request, as the replay then expects."""
    from shared.ratelimit.service import BURST_SHARE

    burst = str(2 * BURST_SHARE - 1)
    return {
        "RATE_LIMIT_PER_SECOND": "100000",
        "RATE_LIMIT_BURST": burst,
        "TENANT_RATE_LIMIT_PER_SECOND": "100000",
        "TENANT_RATE_LIMIT_BURST": burst,
    }


_SENTENCES = (
    "Serverless inference keeps the embedding model close to the data it describes.",
    "How do I reset my password?",
    "The invoice for March was paid twice, and the second payment has not been refunded yet.",
    "Sentence embeddings map texts with similar meanings to nearby vectors.",
    "Our team ships a new release every other Tuesday after the integration tests pass.",
    "The weather in Lisbon stayed warm well into October this year.",
    "Can the API return embeddings for two thousand inputs in a single request?",
    "A cold start loads the tokenizer and the ONNX graph before the first request is answered.",
    "Please find attached the signed contract and the updated delivery schedule.",
    "Customers who bought this kettle also looked at a matching toaster.",
    "The recipe calls for two cups of flour, one egg and a pinch of salt.",
    "Latency rose sharply when the queue backed up during the nightly batch.",
    "She reviewed the pull request and asked for one more test around the empty input.",
    "Quarterly revenue grew by eight percent, driven mostly by the enterprise plan.",
    "The museum opens at ten and is closed on Mondays.",
    "Retrieval quality depends on chunking the documents into passages of a sensible length.",
)


def texts(count: int) -> list[str]:
    """``count`` texts of 1 to 4 sentences, the lengths cycling so every window of 8 or 32 has the same mix."""
    n = len(_SENTENCES)
    return [" ".join(_SENTENCES[(index * 5 + k) % n] for k in range(1 + index % 4)) for index in range(count)]


# ---------------------------------------------------------------- pure figures (unit-tested)


def per_million_tokens(
    seconds_per_token: float, memory_mb: int, tokens_per_request: float, request_price: float
) -> float:
    """List-price dollars per 1M input tokens: Lambda GB-seconds at ``memory_mb`` for the compute, plus
    ``request_price`` (dollars per invocation/request) shared by the tokens of one request."""
    compute = seconds_per_token * memory_mb / 1024 * PRICES["lambda:gb-second"]
    return 1e6 * (compute + request_price / tokens_per_request)


def serving_packages(sizes: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """Unzipped totals (bytes) of the functions that carry the embedding model, from package_size's figures."""
    return {name: int(row["total"]) for name, row in sizes.items() if EMBEDDING_LAYER in row.get("layers", ())}


# ---------------------------------------------------------------- the model and the raw baseline


@dataclass(frozen=True)
class Manifest:
    name: str
    task: str
    pooling: str
    normalize: bool
    max_tokens: int
    dimension: int

    @classmethod
    def read(cls, model_dir: Path) -> "Manifest":
        path = model_dir / "manifest.json"
        if not path.is_file():
            sys.exit(f"no built model in {model_dir}: run `make embedding-model` (or pass --models-dir)")
        found = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            found["name"], found["task"], found["pooling"], found["normalize"], found["max_tokens"], found["dimension"]
        )


class RawEmbedder:
    """What any server of this model must do: tokenise padded to the longest, run the graph, pool, normalise."""

    def __init__(self, model_dir: Path, manifest: Manifest) -> None:
        from tokenizers import Tokenizer

        from shared.runtimes.sessions import open_session

        if manifest.pooling != "mean" or not manifest.normalize:
            raise RuntimeError("the raw baseline pools by the mean and normalises, as the built-in model declares")
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.count_tokens = Tokenizer.from_file(str(model_dir / "tokenizer.json"))  # unpadded: tokens per text
        pad = self._tokenizer.token_to_id("[PAD]")
        self._tokenizer.enable_truncation(manifest.max_tokens)
        self._tokenizer.enable_padding(pad_id=pad, pad_token="[PAD]")  # noqa: S106 - a token, not a secret
        self._session = open_session(model_dir / "model.onnx")  # CPU, one thread: the service's settings

    def embed(self, batch: Sequence[str]) -> Any:
        import numpy as np

        encodings = self._tokenizer.encode_batch(list(batch))
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": mask,
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        weights = mask[..., None].astype(np.float32)
        vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def tokens(self, text: str) -> int:
        return len(self.count_tokens.encode(text).ids)


# ---------------------------------------------------------------- the service's paths, in this process


def api_event(method: str, path: str, body: Any, secret: str = EXAMPLE_KEY) -> dict[str, Any]:
    """An HTTP API (payload v2) event for ``path``, shaped as the committed ``events/predict_model.json``."""
    from tools.local_api import route_of

    _, route_key = route_of(load_template(), method, path)
    event: dict[str, Any] = json.loads((ROOT / "events" / "predict_model.json").read_text(encoding="utf-8"))
    encoded = json.dumps(body)
    event.pop("pathParameters", None)
    event["routeKey"] = event["requestContext"]["routeKey"] = route_key
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["headers"] |= {"authorization": f"Bearer {secret}", "content-length": str(len(encoded.encode()))}
    event["body"] = encoded
    return event


def call_api(method: str, path: str, body: Any, expected: int) -> Any:
    """Serve one request through the function API Gateway would route it to (in this process)."""
    from tools.invoke import decoded_body
    from tools.lambda_runtime import invoke
    from tools.local_api import route_of

    spec, _ = route_of(load_template(), method, path)
    response = invoke(spec, api_event(method, path, body))
    if response["statusCode"] != expected:
        raise RuntimeError(f"{method} {path}: {response['statusCode']} {decoded_body(response)}")
    return decoded_body(response)


@dataclass
class Served:
    """One service request (an event for a handler), recorded once on moto and replayed."""

    event: dict[str, Any]
    replay: Any  # bench.fake_aws.Replay
    texts: list[str]


@dataclass(frozen=True)
class WayResult:
    texts_per_second: float  # median over the rounds
    tokens_per_second: float


@dataclass(frozen=True)
class Throughput:
    sizes: dict[int, dict[str, WayResult]]  # batch size -> way -> result
    per_round: dict[int, dict[str, list[float]]]  # batch size -> way -> texts per second in each round
    mean_tokens: float  # per text of the pool
    texts: int
    rounds: int
    agreement: float  # the largest difference between a served vector and raw's, over every text and way

    def ratio(self, size: int, way: str) -> float:
        """The way's time over the raw baseline's for the same texts (1.00 = no overhead): the median over the
        rounds of the two timed in the same round (turn by turn, so a burst of load hits both)."""
        rates = self.per_round[size]
        return statistics.median(raw / served for raw, served in zip(rates["raw"], rates[way], strict=True))


class _Service:
    """The moto stack and the three serving handlers, the built-in model read from ``models_dir``."""

    def __init__(self, models_dir: Path) -> None:
        from bench.worker_throughput import WorkerStack
        from tools.lambda_runtime import load_handler

        # provisions, seeds the example key, loads the create/worker handlers; the built-in from models_dir
        self.stack = WorkerStack(**unthrottled(), BUILTIN_MODELS_DIR=str(models_dir))
        template = load_template()
        functions = {"sync": SYNC_FUNCTION, "worker": WORKER_FUNCTION, "embeddings": EMBEDDINGS_FUNCTION}
        self.specs = {way: template.function(name) for way, name in functions.items()}
        self.handlers = {way: load_handler(spec) for way, spec in self.specs.items()}

    def event(self, way: str, batch: Sequence[str]) -> dict[str, Any]:
        if way == "sync":
            return self.sync_event(batch)
        if way == "worker":
            return self.worker_event(batch)
        return api_event("POST", "/v1/embeddings", {"model": MODEL_NAME, "input": list(batch)})

    def sync_event(self, batch: Sequence[str]) -> dict[str, Any]:
        body = {"inputs": [{"name": "text", "shape": [len(batch)], "datatype": "BYTES", "data": list(batch)}]}
        return api_event("POST", f"/v2/models/{MODEL_NAME}/infer", body)

    def worker_event(self, batch: Sequence[str]) -> dict[str, Any]:
        return self.stack.event_of(MODEL_NAME, [{"text": text} for text in batch])

    def serve(self, way: str, event: dict[str, Any]) -> Any:
        from tools.lambda_runtime import context_for

        return _answered(way, self.handlers[way](event, context_for(self.specs[way])))

    def replayed(self, way: str, item: Served) -> float:
        """Seconds the way's handler took to serve the recorded request again, its AWS calls replayed."""
        from tools.lambda_runtime import context_for

        handler = self.handlers[way]
        event, context = copy.deepcopy(item.event), context_for(self.specs[way])  # outside the clock
        with item.replay.installed():
            began = time.perf_counter()
            response = handler(event, context)
            seconds = time.perf_counter() - began
            item.replay.rewind()
        _answered(way, response)
        return seconds

    def vectors(self, way: str, event: dict[str, Any], response: Any, batch: Sequence[str]) -> dict[str, list[float]]:
        """text -> its embedding, as the way answered it."""
        from tools.invoke import decoded_body

        if way == "worker":
            return self.worker_vectors(event)
        if way == "sync":
            return dict(zip(batch, self.sync_vectors(response), strict=True))
        data = sorted(decoded_body(response)["data"], key=lambda item: int(item["index"]))
        return dict(zip(batch, (item["embedding"] for item in data), strict=True))

    def sync_vectors(self, response: dict[str, Any]) -> list[list[float]]:
        from tools.invoke import decoded_body

        body = decoded_body(response)
        output = next(tensor for tensor in body["outputs"] if tensor["name"] == "embedding")
        rows, width = output["shape"]
        data = output["data"]
        return [data[row * width : (row + 1) * width] for row in range(rows)]

    def worker_vectors(self, event: dict[str, Any]) -> dict[str, list[float]]:
        """text -> its embedding, from the predictions the event ran (they must have succeeded)."""
        from shared.wiring import prediction_store

        store, found = prediction_store(), {}
        for record in event["Records"]:
            body = json.loads(record["body"])
            prediction = store.get(body["tenant"], body["prediction_id"])
            if prediction.status != "succeeded" or prediction.output is None:
                raise RuntimeError(f"prediction {prediction.id} is {prediction.status}")
            found[prediction.input["text"]] = prediction.output["embedding"]
        return found


def _answered(way: str, response: Any) -> Any:
    """The handler's response, if it is the way's success (the worker: no record left for redelivery)."""
    if way == "worker":
        if response != {"batchItemFailures": []}:
            raise RuntimeError(f"the worker left records for redelivery: {response}")
    elif response["statusCode"] != 200:
        raise RuntimeError(f"{way}: {response['statusCode']} {response.get('body', '')[:500]}")
    return response


def _recorded(service: _Service, way: str, batch: list[str]) -> tuple[Served, Any]:
    from bench.fake_aws import Replay, recording

    event = service.event(way, batch)
    with recording() as calls:
        response = service.serve(way, copy.deepcopy(event))
    return Served(event, Replay(list(calls)), batch), response


def _difference(way: str, batch: Sequence[str], vectors: Mapping[str, Sequence[float]], raw: RawEmbedder) -> float:
    """The largest difference between the way's vectors and raw's for the same texts (within ``AGREEMENT``)."""
    import numpy as np

    expected = raw.embed(batch)
    got = np.array([vectors[text] for text in batch], dtype=np.float64)
    worst = float(np.abs(got - expected).max())
    if worst > AGREEMENT:
        raise RuntimeError(f"{way} and raw differ by {worst:.2e} on a window of {len(batch)}: not the same work")
    return worst


def measure_throughput(models_dir: Path, manifest: Manifest, count: int, rounds: int) -> Throughput:
    """The throughput table's figures; call inside ``mock_aws()`` with the fake AWS environment."""
    pool = texts(count)
    raw = RawEmbedder(models_dir / MODEL_NAME, manifest)
    service = _Service(models_dir)
    worst = 0.0
    for way in SERVED:  # warm: the model checked and opened, clients made
        service.serve(way, service.event(way, pool[:2]))
    raw.embed(pool[:2])
    served: dict[int, dict[str, list[Served]]] = {}
    for size in BATCH_SIZES:
        windows = [pool[start : start + size] for start in range(0, count, size)]
        served[size] = {way: [] for way in SERVED}
        for batch in windows:
            for way in SERVED:
                item, response = _recorded(service, way, batch)
                vectors = service.vectors(way, item.event, response, batch)
                worst = max(worst, _difference(way, batch, vectors, raw))
                served[size][way].append(item)
    rates = _timed_rounds(service, raw, served, count, rounds)
    mean_tokens = statistics.fmean(raw.tokens(text) for text in pool)
    sizes = {
        size: {
            way: WayResult(statistics.median(found), statistics.median(found) * mean_tokens)
            for way, found in by_way.items()
        }
        for size, by_way in rates.items()
    }
    return Throughput(sizes, rates, mean_tokens, count, rounds, worst)


def _timed_rounds(
    service: _Service, raw: RawEmbedder, served: dict[int, dict[str, list[Served]]], count: int, rounds: int
) -> dict[int, dict[str, list[float]]]:
    """Per batch size and way, texts per second in each round; the ways take turns window by window."""
    rates: dict[int, dict[str, list[float]]] = {size: {way: [] for way in PATHS} for size in BATCH_SIZES}
    gc.collect()
    gc.freeze()  # moto and the set-up stay out of the collections
    try:
        for _ in range(rounds):
            for size in BATCH_SIZES:
                spent = dict.fromkeys(PATHS, 0.0)
                for index in range(len(served[size]["sync"])):
                    shift = index % len(PATHS)
                    order = [*PATHS[shift:], *PATHS[:shift]]
                    for way in order if index % 2 == 0 else order[::-1]:
                        if way == "raw":
                            batch = served[size]["sync"][index].texts
                            began = time.perf_counter()
                            raw.embed(batch)
                            spent[way] += time.perf_counter() - began
                            continue
                        spent[way] += service.replayed(way, served[size][way][index])
                for way in PATHS:
                    rates[size][way].append(count / spent[way])
            sys.stderr.write(
                "round: "
                + ", ".join(f"{size}: " + "/".join(f"{rates[size][w][-1]:.0f}" for w in PATHS) for size in BATCH_SIZES)
                + f" texts/s ({'/'.join(PATHS)})\n"
            )
    finally:
        gc.unfreeze()
    return rates


# ---------------------------------------------------------------- cold start


@dataclass(frozen=True)
class ColdStart:
    floor: float  # seconds, median
    imported: float  # the function's module imported, median
    first_request: float  # imported and the first request served (the model loaded), median
    peak_rss_mib: float


def measure_cold_start(models_dir: Path, runs: int) -> ColdStart:
    """A moto server with the example key; fresh interpreters reading the built-in from ``models_dir``."""
    import boto3

    from bench.cold_start import FAKE_AWS, FLOOR, enforce_on_server, sample, start_moto_server
    from shared.wiring import key_service, reset
    from tools.enforcement import stop_enforcing_in_process
    from tools.provision import function_environment, provision

    template = load_template()
    server, endpoint = start_moto_server()
    fake = FAKE_AWS
    saved = dict(os.environ)
    try:
        stop_enforcing_in_process()  # this process's moto answers the server: as it was before any stack
        os.environ.update({**fake, "AWS_ENDPOINT_URL": endpoint})
        stack = provision(template, prefix="coldembed")  # on the server: AWS_ENDPOINT_URL
        functions = function_environment(template, stack)
        os.environ.update({**functions, **unthrottled(), "MODEL_DIR": tempfile.mkdtemp(prefix="bench-models-")})
        reset()
        from shared.keys.models import Scope

        key_service().import_secret("example", "example admin", [Scope.ADMIN], EXAMPLE_KEY)
        roles = enforce_on_server(template, stack, endpoint, boto3.client("iam"))
        base = {
            **{k: v for k, v in saved.items() if not k.startswith(("AWS_", "POWERTOOLS_"))},
            **fake,
            **functions,
            "BUILTIN_MODELS_DIR": str(models_dir),  # in Lambda: /opt/models, from the EmbeddingModelLayer
            "AWS_ENDPOINT_URL": endpoint,
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "",
        }
        spec = template.function(SYNC_FUNCTION)
        with tempfile.TemporaryDirectory(prefix="bench-cold-") as folder:
            event = Path(folder) / "event.json"
            first = api_event("POST", f"/v1/models/{MODEL_NAME}/predict", {"input": {"text": texts(4)[3]}})
            event.write_text(json.dumps(first), encoding="utf-8")
            config = {"module": spec.module, "handler": spec.handler_name, "name": spec.logical_id, "event": str(event)}
            samples = []
            for _ in range(runs):
                with tempfile.TemporaryDirectory(prefix="bench-models-") as models:  # /tmp is empty on a cold start
                    own_role = roles.credentials(spec.logical_id).environment()
                    samples.append(sample(config, {**base, **own_role, "MODEL_DIR": models}, 1))
            (Path(folder) / "floor_handler.py").write_text(FLOOR, encoding="utf-8")
            floor_config = {
                "module": "floor_handler",
                "handler": "handler",
                "name": "Floor",
                "event": str(ROOT / "events" / "get_health.json"),
            }
            floor = sample(floor_config, {**base, **roles.operator.environment(), "PYTHONPATH": folder}, runs)
    finally:
        stop_enforcing_in_process()
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
    median = statistics.median
    return ColdStart(
        floor[1],
        median(s[0] for s in samples),
        median(s[1] for s in samples),
        median(s[2] for s in samples),
    )


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class Cost:
    way: str
    per_million: float
    memory_mb: int
    tokens_per_request: float


def costs(found: Throughput) -> list[Cost]:
    """$ per 1M input tokens at batch 32 for the worker (Lambda) and the sync route (Lambda + API Gateway)."""
    template = load_template()
    rows = []
    for way, function, request_price in (
        ("worker", WORKER_FUNCTION, PRICES["lambda:request"]),
        ("sync", SYNC_FUNCTION, PRICES["lambda:request"] + PRICES["apigateway"]),
    ):
        memory = template.function(function).memory_size
        tokens = TARGET_BATCH * found.mean_tokens
        seconds_per_token = 1 / found.sizes[TARGET_BATCH][way].tokens_per_second
        rows.append(Cost(way, per_million_tokens(seconds_per_token, memory, tokens, request_price), memory, tokens))
    return rows


def table(found: Throughput, cold: ColdStart | None, packages: Mapping[str, int] | None) -> str:
    mib = 1024 * 1024
    lines = ["| measure | batch 1 | batch 8 | batch 32 |", "|---|---:|---:|---:|"]
    names = {
        "sync": "sync route (OIP infer)",
        "worker": "worker (SQS event)",
        "embeddings": "POST /v1/embeddings",
        "raw": "raw tokenizers + onnxruntime",
    }
    for way in PATHS:
        lines.append(
            f"| {names[way]}: texts/s (tokens/s) | "
            + " | ".join(
                f"{found.sizes[size][way].texts_per_second:,.0f} ({found.sizes[size][way].tokens_per_second:,.0f})"
                for size in BATCH_SIZES
            )
            + " |"
        )
    for way in SERVED:
        lines.append(
            f"| {way} time / raw time | " + " | ".join(f"{found.ratio(size, way):.2f}x" for size in BATCH_SIZES) + " |"
        )
    for cost in costs(found):
        lines.append(
            f"| $ per 1M input tokens, {cost.way} ({cost.memory_mb} MB arm64, requests included) | | | "
            f"${cost.per_million:.4f} |"
        )
    lines.append(f"| $ per 1M tokens, OpenAI text-embedding-3-small (list) | | | ${OPENAI_PER_MILLION:.4f} |")
    if cold is not None:
        lines.append(
            f"| cold start of {SYNC_FUNCTION}, first request included: "
            f"{cold.first_request * 1000:,.0f} ms ({cold.first_request / cold.floor:.1f}x the floor of "
            f"{cold.floor * 1000:.0f} ms; import {cold.imported * 1000:,.0f} ms; peak RSS {cold.peak_rss_mib:.0f} MiB) "
            "| | | |"
        )
    for name, total in (packages or {}).items():
        lines.append(
            f"| package {name} (code + layers, unzipped): {total / mib:.2f} MiB of 250 MiB "
            f"({(LAMBDA_UNZIPPED_LIMIT - total) / mib:.2f} MiB head-room) | | | |"
        )
    return "\n".join(lines)


def figures(found: Throughput, cold: ColdStart | None, packages: Mapping[str, int] | None) -> dict[str, Any]:
    """The key figures for ``python -m bench``'s targets table."""
    worker = next(cost for cost in costs(found) if cost.way == "worker")
    return {
        "ratios": {way: found.ratio(TARGET_BATCH, way) for way in SERVED},
        "texts_per_second": {
            str(size): {way: result.texts_per_second for way, result in by_way.items()}
            for size, by_way in found.sizes.items()
        },
        "mean_tokens": found.mean_tokens,
        "per_million_tokens": worker.per_million,
        "memory_mb": worker.memory_mb,
        "cold_start": None if cold is None else {"first_request": cold.first_request, "floor": cold.floor},
        "packages": dict(packages or {}),
    }


def _package_sizes(build_dir: Path | None) -> dict[str, int]:
    from bench.package_size import package_sizes

    rows = {row.name: {"total": row.total, "layers": row.layers} for row in package_sizes(build_dir)}
    return serving_packages(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--models-dir",
        type=Path,
        help=f"the folder holding {MODEL_NAME}/ (BUILTIN_MODELS_DIR; default: the local stack's, make embedding-model)",
    )
    parser.add_argument("--texts", type=int, default=128, help="texts in the pool (a multiple of 32)")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds over the pool, per batch size and way")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh interpreters for the cold start (0: skip)")
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--build-dir", type=Path, help="package sizes of this existing sam build (default: build)")
    sizes.add_argument("--no-package-sizes", action="store_true", help="skip them (python -m bench has its own)")
    parser.add_argument("--json", type=Path, help="also write the key figures to this file (for `python -m bench`)")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the moto server's request log
    warnings.filterwarnings("ignore", message="No application metrics to publish")  # a worker's empty flush
    if args.texts <= 0 or args.texts % TARGET_BATCH:
        parser.error(f"--texts must be a positive multiple of {TARGET_BATCH}")
    if args.models_dir is None:
        from tools.devstack import MODELS_DIR  # INFERGATE_DEV_MODELS_DIR or .aws-sam/models

        args.models_dir = MODELS_DIR
    manifest = Manifest.read(args.models_dir / MODEL_NAME)
    with open(os.devnull, "w", encoding="utf-8") as sink, redirect_stdout(sink):  # logs and EMF metrics
        found = run_throughput(args.models_dir, manifest, args.texts, args.rounds)
        cold = measure_cold_start(args.models_dir, args.cold_runs) if args.cold_runs > 0 else None
    packages = None if args.no_package_sizes else _package_sizes(args.build_dir)
    print(  # noqa: T201
        f"\nEmbeddings of {manifest.name} (int8 weights, {manifest.dimension} dimensions): {found.texts} texts "
        f"({found.mean_tokens:.1f} tokens each on average), median of {found.rounds} rounds\n"
    )
    print(table(found, cold, packages))  # noqa: T201
    print(f"\nlargest difference from raw's vectors, every text and way: {found.agreement:.1e}")  # noqa: T201
    worst = max(found.ratio(TARGET_BATCH, way) for way in SERVED)
    met = "met" if worst <= TARGET_OVERHEAD else "NOT met"
    target = f"target ≤ {TARGET_OVERHEAD:.2f}x: {met}"
    print(f"\nserving time at batch {TARGET_BATCH}: worst {worst:.2f}x the raw baseline's ({target})")  # noqa: T201
    if args.json:
        args.json.write_text(json.dumps(figures(found, cold, packages)), encoding="utf-8")


def run_throughput(models_dir: Path, manifest: Manifest, count: int, rounds: int) -> Throughput:
    """The throughput figures in this process, on moto with fake credentials."""
    from moto import mock_aws

    from bench.aws_calls import fake_aws_environment

    fake_aws_environment()
    saved = dict(os.environ)
    try:
        with mock_aws():
            return measure_throughput(models_dir, manifest, count, rounds)
    finally:
        os.environ.clear()
        os.environ.update(saved)


if __name__ == "__main__":
    main()
