"""Worker throughput: predictions per second of ``run_predictions`` on SQS batches of ten, micro-batched
against one by one, for ``echo``, ``sentiment`` and ``iris``. Target (issue 7): micro-batched at least 3x one
by one for ``iris``.

    .venv/bin/python -m bench.worker_throughput [--batches 200] [--rounds 10] [--models iris ...]

Per model, in this one process on moto: predictions are created through the real
CreatePredictionFunction handler (the committed ``events/create_prediction.json``, its key seeded),
their ten SQS messages received and turned into the SQS event Lambda delivers. A first batch warms
the worker up (runtime built, ONNX session loaded); then RunPredictionsFunction's handler serves one
fresh batch of ten in each mode while every AWS call is recorded (``bench/fake_aws.py``), and
``--batches`` times per mode with those calls answered instantly from the recording, so what is timed
is our worker and the model, not moto. All models' modes take turns batch by batch (in rotating,
alternately reversed order) so noise hits them all alike; a mode's figure is the median over
``--rounds`` rounds of ten predictions per batch divided by the round's mean time per batch.

- micro-batched: the product's worker: the ten predictions (one model version) run in one runtime call.
- one by one: the same worker, handler, SQS batch and AWS calls (checked: the two recordings make the
  same operations in the same order, and give the same outputs), but the runtime's batch call is made
  once per input, as if there were no micro-batching. A bench-only wrapper does that around the
  runtime the loader returns; the runner is built from the same services as the product's and swapped
  in for the handler's ``prediction_runner``. The runner's work per group (registry resolve, runtime
  lookup, one ``MicroBatchSize`` metric) stays once per batch, which flatters one by one slightly.

In both modes a wrapper adds up the time spent inside the runtime (the model call share): the rest of
a prediction's time is ours (SQS parsing, three DynamoDB calls and their (de)serialisation, the
state machine, logs, metrics). Logs are at the template's level (INFO) and EMF metrics on, as in
production, written to /dev/null.

With AWS latency (issue 20; ``bench/latency.py``, on unless ``INFERGATE_BENCH_LATENCY=off``): the
micro-batched worker then serves ``--latency-batches`` SQS batches of ten, and as many of one (a batch
of one recorded the same way), each with AWS answering at once and with the model's delays, turn by
turn: the wall time per batch (median) and the billed GB-seconds per prediction at the worker's
``MemorySize`` (each invocation rounded up to the millisecond).
"""

import argparse
import copy
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import boto3
from moto import mock_aws

from bench.aws_calls import fake_aws_environment
from bench.fake_aws import RecordedCall, Replay, recording
from bench.latency import LatencyModel, billed_gb_seconds, configured
from bench.stack import provision_stack
from tools.template import ROOT, load_template

if TYPE_CHECKING:
    from shared.predictions.runner import PredictionRunner
    from shared.registry.models import ModelVersion
    from shared.runtimes.base import ModelRuntime, RuntimeResult

MODELS = ("echo", "sentiment", "iris")
BATCH = 10  # the SQS batch size of the worker's event source mapping
TARGET_RATIO = 3.0  # for iris
FUNCTION = "RunPredictionsFunction"

_IRIS_ROWS = (
    [5.1, 3.5, 1.4, 0.2],
    [4.9, 3.0, 1.4, 0.2],
    [7.0, 3.2, 4.7, 1.4],
    [6.4, 3.2, 4.5, 1.5],
    [6.3, 3.3, 6.0, 2.5],
    [5.8, 2.7, 5.1, 1.9],
)
_TEXTS = (
    "Infergate makes serving models easy!",
    "The queue was slow today and the results came late.",
    "It works.",
    "I really love how predictable the latency is, great job.",
    "Terrible: the model failed twice and nobody noticed.",
)


def model_input(model: str, index: int) -> dict[str, Any]:
    """A different, valid input for each prediction of a batch."""
    if model == "iris":
        return {"features": _IRIS_ROWS[index % len(_IRIS_ROWS)]}
    if model == "sentiment":
        return {"text": _TEXTS[index % len(_TEXTS)]}
    return {"n": index, "tags": ["a", "b"]}


@dataclass(frozen=True)
class ModeResult:
    per_second: float  # predictions per second, median over the rounds
    model_seconds: float  # time inside the runtime per prediction, median over the rounds
    batch_seconds: float  # worker time per SQS batch of ten, median over the rounds


@dataclass(frozen=True)
class Row:
    model: str
    micro_batched: ModeResult
    one_by_one: ModeResult
    aws_calls: int  # per SQS batch of ten, the same in both modes

    @property
    def ratio(self) -> float:
        return self.micro_batched.per_second / self.one_by_one.per_second


@dataclass(frozen=True)
class BatchLatency:
    """The micro-batched worker on one SQS batch of ``size`` records: AWS at once against the latency model."""

    model: str
    size: int
    aws_calls: int
    memory_mb: int
    at_once_ms: float  # wall time per batch, median
    modelled_ms: float
    at_once_gb_seconds: float  # billed per prediction, mean over the batches
    modelled_gb_seconds: float


class _Stopwatch:
    def __init__(self) -> None:
        self.seconds = 0.0


class _TimedRuntime:
    """The runtime, timed; ``one_by_one`` makes its batch call once per input (no micro-batching)."""

    def __init__(self, runtime: "ModelRuntime", one_by_one: bool, stopwatch: _Stopwatch) -> None:
        self._runtime = runtime
        self._one_by_one = one_by_one
        self._stopwatch = stopwatch

    def predict(self, inputs: Sequence[Mapping[str, Any]], timeout: float | None = None) -> "list[RuntimeResult]":
        began = time.perf_counter()
        try:
            if self._one_by_one:
                return [result for item in inputs for result in self._runtime.predict([item], timeout)]
            return self._runtime.predict(inputs, timeout)
        finally:
            self._stopwatch.seconds += time.perf_counter() - began


def _runner(one_by_one: bool, stopwatch: _Stopwatch) -> "PredictionRunner":
    """A worker built exactly as ``shared.wiring.prediction_runner`` builds it, its runtimes wrapped."""
    from shared.predictions.runner import PredictionRunner
    from shared.wiring import model_registry, prediction_store, runtime_loader, transitions

    loader = runtime_loader()

    def load(version: "ModelVersion") -> "ModelRuntime":
        return _TimedRuntime(loader(version), one_by_one, stopwatch)

    return PredictionRunner(prediction_store(), transitions(), model_registry(), load)


@dataclass
class _Mode:
    name: str
    runner: "PredictionRunner"
    stopwatch: _Stopwatch
    event: dict[str, Any]
    replay: Replay
    calls: list[RecordedCall]
    per_second: list[float] = field(default_factory=list)
    model_seconds: list[float] = field(default_factory=list)
    batch_seconds: list[float] = field(default_factory=list)

    @contextmanager
    def installed(self, app: Any) -> Iterator[None]:
        def prediction_runner() -> "PredictionRunner":
            return self.runner

        with mock.patch.object(app, "prediction_runner", prediction_runner):
            yield


class WorkerStack:
    """The ephemeral moto stack and the handlers that create predictions and run them."""

    def __init__(self, **environment: str) -> None:
        from tools.invoke import seed_bearer_key
        from tools.lambda_runtime import context_for, load_handler

        template = load_template()
        self.stack = provision_stack("bench-worker", **environment)
        os.environ.pop("POWERTOOLS_METRICS_DISABLED", None)  # as deployed: EMF metrics on
        from shared.kernel.observability import logger

        logger.setLevel(os.environ["POWERTOOLS_LOG_LEVEL"])  # the template's, whenever the logger was made
        self.create_event: dict[str, Any] = json.loads(
            (ROOT / "events" / "create_prediction.json").read_text(encoding="utf-8")
        )
        seed_bearer_key(self.create_event)
        create_spec, worker_spec = template.function("CreatePredictionFunction"), template.function(FUNCTION)
        self.create = load_handler(create_spec)
        self.create_context = context_for(create_spec)
        self.worker = load_handler(worker_spec)
        self.worker_context = context_for(worker_spec)
        self.app = import_module(worker_spec.module)
        self.sqs = boto3.client("sqs")

    def batch_event(self, model: str) -> dict[str, Any]:
        """Ten new predictions of ``model`` through the create handler, as the worker's SQS event."""
        return self.event_of(model, [model_input(model, index) for index in range(BATCH)])

    def event_of(self, model: str, inputs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """A new prediction of ``model`` per input through the create handler, as the worker's SQS event."""
        from tools.sqs_events import lambda_event

        for payload in inputs:
            event = copy.deepcopy(self.create_event)
            event["body"] = json.dumps({"model": model, "input": payload})
            event["headers"]["content-length"] = str(len(event["body"].encode()))
            response = self.create(event, self.create_context)
            if response["statusCode"] != 201:
                raise RuntimeError(f"create {model}: {response['statusCode']} {response['body']}")
        queue = self.stack.refs["PredictionsQueue"]
        messages: list[dict[str, Any]] = []
        while len(messages) < len(inputs):
            got = self.sqs.receive_message(
                QueueUrl=queue, MaxNumberOfMessages=min(10, len(inputs) - len(messages)), MessageAttributeNames=["All"]
            )
            messages += [dict(message) for message in got.get("Messages", [])]
        for message in messages:
            self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        return lambda_event(messages, self.stack.arns["PredictionsQueue"], "us-east-1")

    def run(self, mode: "_Mode | None", event: dict[str, Any]) -> None:
        if mode is None:
            response = self.worker(copy.deepcopy(event), self.worker_context)
        else:
            with mode.installed(self.app):
                response = self.worker(copy.deepcopy(event), self.worker_context)
        if response != {"batchItemFailures": []}:
            raise RuntimeError(f"the worker left records for redelivery: {response}")

    def outputs(self, event: dict[str, Any]) -> list[str]:
        """Each prediction of the event's input and output, as sorted JSON lines (they must have succeeded)."""
        from shared.wiring import prediction_store

        store, found = prediction_store(), []
        for record in event["Records"]:
            body = json.loads(record["body"])
            prediction = store.get(body["tenant"], body["prediction_id"])
            if prediction.status != "succeeded":
                raise RuntimeError(f"prediction {prediction.id} is {prediction.status}")
            found.append(json.dumps([prediction.input, prediction.output], sort_keys=True))
        return sorted(found)


def _record(stack: WorkerStack, model: str, name: str, one_by_one: bool, size: int = BATCH) -> _Mode:
    """A fresh batch of ``size`` served once on moto in this mode, every AWS call recorded."""
    stopwatch = _Stopwatch()
    calls: list[RecordedCall] = []
    event = stack.event_of(model, [model_input(model, index) for index in range(size)])
    mode = _Mode(name, _runner(one_by_one, stopwatch), stopwatch, event, Replay(calls), calls)
    with recording() as recorded:
        stack.run(mode, mode.event)
    calls += recorded
    return mode


def _timed_rounds(stack: WorkerStack, modes: Sequence[_Mode], per_round: int, rounds: int) -> None:
    """Each round, each mode serves ``per_round`` replayed batches, the modes taking turns batch by batch
    (the order rotates and reverses, so none always goes first or last): a burst of noise hits them all."""
    for _ in range(rounds):
        events = [[copy.deepcopy(mode.event) for _ in range(per_round)] for mode in modes]  # outside the clock
        spent = [0.0] * len(modes)
        for mode in modes:
            mode.stopwatch.seconds = 0.0
        for index in range(per_round):
            turn = index % len(modes)
            order = [*range(turn, len(modes)), *range(turn)]
            for number in order if index % 2 == 0 else order[::-1]:
                mode = modes[number]
                with mode.replay.installed(), mode.installed(stack.app):
                    began = time.perf_counter()
                    stack.worker(events[number][index], stack.worker_context)
                    spent[number] += time.perf_counter() - began
                    mode.replay.rewind()
        for mode, seconds in zip(modes, spent, strict=True):
            mode.per_second.append(per_round * BATCH / seconds)
            mode.model_seconds.append(mode.stopwatch.seconds / (per_round * BATCH))
            mode.batch_seconds.append(seconds / per_round)


def _prepare(stack: WorkerStack, model: str) -> tuple[_Mode, _Mode]:
    """Warm the worker up on ``model``, then record a batch in each mode; check the two are comparable."""
    stack.run(None, stack.batch_event(model))  # on moto: runtime built, session loaded, clients made
    batched = _record(stack, model, "micro-batched", one_by_one=False)
    single = _record(stack, model, "one by one", one_by_one=True)
    if [(c.service, c.operation) for c in batched.calls] != [(c.service, c.operation) for c in single.calls]:
        raise RuntimeError(f"{model}: the two modes make different AWS calls; the comparison is not fair")
    if stack.outputs(batched.event) != stack.outputs(single.event):
        raise RuntimeError(f"{model}: micro-batched and one-by-one outputs differ")
    return batched, single


def _result(mode: _Mode) -> ModeResult:
    median = statistics.median
    return ModeResult(median(mode.per_second), median(mode.model_seconds), median(mode.batch_seconds))


def _with_latency(stack: WorkerStack, model: str, mode: _Mode, latency: LatencyModel, batches: int) -> BatchLatency:
    """``batches`` replays of the mode's batch with AWS at once and as many with the model's delays, in turns."""
    size = len(mode.event["Records"])
    memory = load_template().function(FUNCTION).memory_size
    modelled = Replay(mode.calls, latency.fork(latency.seed + size))
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for index in range(2 * batches):
        slowed = index % 2 == 1
        event = copy.deepcopy(mode.event)  # outside the clock
        with (modelled if slowed else mode.replay).installed() as replay, mode.installed(stack.app):
            began = time.perf_counter()
            stack.worker(event, stack.worker_context)
            seconds[slowed].append(time.perf_counter() - began)
            replay.rewind()

    def per_prediction(times: list[float]) -> float:
        return statistics.fmean(billed_gb_seconds(each, memory) for each in times) / size

    return BatchLatency(
        model,
        size,
        len(mode.calls),
        memory,
        statistics.median(seconds[False]) * 1000,
        statistics.median(seconds[True]) * 1000,
        per_prediction(seconds[False]),
        per_prediction(seconds[True]),
    )


def run(
    batches: int,
    rounds: int,
    models: Sequence[str] = MODELS,
    latency: LatencyModel | None = None,
    latency_batches: int = 0,
) -> tuple[list[Row], list[BatchLatency]]:
    """The rows, and with ``latency`` each model's batch of ten and of one with AWS latency; call inside
    ``mock_aws()`` with the fake AWS environment (``measure`` does both).

    Every model's two modes are timed together, turn by turn, so the figures compare across models too."""
    stack = WorkerStack()
    pairs = [_prepare(stack, model) for model in models]
    modes = [mode for pair in pairs for mode in pair]
    singles = [_record(stack, model, "batch of one", False, size=1) for model in models] if latency else []
    answers = copy.deepcopy([(c.response, c.error) for mode in [*modes, *singles] for c in mode.calls])
    latencies: list[BatchLatency] = []
    gc.collect()
    gc.freeze()  # moto and the set-up stay out of the collections: a worker's heap in Lambda is far smaller
    try:
        _timed_rounds(stack, modes, max(1, batches // rounds), rounds)
        if latency is not None and latency_batches:
            for model, (batched, _), single in zip(models, pairs, singles, strict=True):
                latencies += [_with_latency(stack, model, mode, latency, latency_batches) for mode in (batched, single)]
    finally:
        gc.unfreeze()
    if [(c.response, c.error) for mode in [*modes, *singles] for c in mode.calls] != answers:
        raise RuntimeError("the worker mutated the answers it was given: the replay is not valid")
    rows = [
        Row(model, _result(batched), _result(single), len(batched.calls))
        for model, (batched, single) in zip(models, pairs, strict=True)
    ]
    for row in rows:
        sys.stderr.write(
            f"{row.model}: {row.micro_batched.per_second:.0f}/s micro-batched, "
            f"{row.one_by_one.per_second:.0f}/s one by one ({row.ratio:.2f}x)\n"
        )
    return rows, latencies


def measure(
    batches: int = 200,
    rounds: int = 10,
    models: Sequence[str] = MODELS,
    latency: LatencyModel | None = None,
    latency_batches: int = 0,
) -> tuple[list[Row], list[BatchLatency]]:
    """The whole benchmark in this process: moto, fake credentials, logs and metrics to /dev/null."""
    fake_aws_environment()
    with mock_aws(), open(os.devnull, "w", encoding="utf-8") as sink, redirect_stdout(sink):
        return run(batches, rounds, models, latency, latency_batches)


def table(rows: Sequence[Row]) -> str:
    def model_share(mode: ModeResult) -> str:
        share = mode.model_seconds * BATCH / mode.batch_seconds
        return f"{mode.model_seconds * 1e6:.0f} µs ({share:.0%})"

    lines = [
        "| model | micro-batched predictions/s | one-by-one predictions/s | ratio "
        "| worker µs/prediction, micro-batched | model call µs/prediction (share), micro-batched "
        "| worker µs/prediction, one by one | model call µs/prediction (share), one by one | AWS calls per batch |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        batched, single = row.micro_batched, row.one_by_one
        lines.append(
            f"| {row.model} | {batched.per_second:,.0f} | {single.per_second:,.0f} | {row.ratio:.2f}x "
            f"| {batched.batch_seconds / BATCH * 1e6:.0f} | {model_share(batched)} "
            f"| {single.batch_seconds / BATCH * 1e6:.0f} | {model_share(single)} | {row.aws_calls} |"
        )
    return "\n".join(lines)


def latency_table(rows: Sequence[BatchLatency]) -> str:
    lines = [
        "| model | SQS batch | AWS calls | MemorySize MB | ms per batch, AWS at once | ms per batch, latency model "
        "| ratio | GB-s per prediction, AWS at once | GB-s per prediction, latency model | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.model} | {row.size} | {row.aws_calls} | {row.memory_mb} | {row.at_once_ms:.2f} "
            f"| {row.modelled_ms:.1f} | {row.modelled_ms / row.at_once_ms:.0f}x | {row.at_once_gb_seconds:.6f} "
            f"| {row.modelled_gb_seconds:.6f} | {row.modelled_gb_seconds / row.at_once_gb_seconds:.1f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=200, help="replayed SQS batches of ten, per model and mode")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds the batches are split into")
    parser.add_argument("--models", nargs="*", choices=MODELS, default=list(MODELS))
    parser.add_argument(
        "--latency-batches", type=int, default=20, help="SQS batches of ten, and of one, with the AWS latency model"
    )
    parser.add_argument("--json", type=Path, help="also write the key figures to this file (for `python -m bench`)")
    args = parser.parse_args()
    latency = configured()
    rows, latencies = measure(args.batches, args.rounds, args.models, latency, args.latency_batches)
    target = next((row for row in rows if row.model == "iris"), None)
    print(  # noqa: T201
        f"\nWorker throughput, SQS batches of {BATCH}: median of {args.rounds} alternating rounds, "
        f"{args.batches} batches per model and mode\n"
    )
    print(table(rows))  # noqa: T201
    if target is not None:
        met = "met" if target.ratio >= TARGET_RATIO else "NOT met"
        print(f"\niris: micro-batched {target.ratio:.2f}x one by one (target ≥ {TARGET_RATIO:.0f}x: {met})")  # noqa: T201
    if latency is not None and latencies:
        print(  # noqa: T201
            f"\nThe micro-batched worker with AWS latency (bench/latency.py, seed {latency.seed}): "
            f"{args.latency_batches} batches each way, turn by turn\n"
        )
        print(latency_table(latencies))  # noqa: T201
    if args.json:
        figures: dict[str, Any] = {"ratios": {row.model: row.ratio for row in rows}}
        if latencies:
            figures["latency"] = [vars(row) for row in latencies]
        args.json.write_text(json.dumps(figures), encoding="utf-8")


if __name__ == "__main__":
    main()
