"""How long AWS takes to answer, for the benchmarks: a delay per (service, operation), drawn per call.

The fake AWS (``bench/fake_aws.py``) answers from memory in microseconds; in a Lambda function in the
same region each call is a network round trip of milliseconds, and the function is billed for it. With
a :class:`LatencyModel` the fake holds each answer back by a delay drawn for the call's service and
operation, with ``time.sleep``: the handler's thread is blocked for it, as it is on a socket, so the
handler's wall clock (and calls made from several threads at once) see what they would see in AWS.

Each delay is **lognormal**, pinned by a median and a p99. Network and service latencies are positive
and skewed to the right (a floor, most calls near it, a long thin tail); a lognormal has that shape,
two quantiles fix it (sigma = ln(p99 / median) / 2.326), it needs no third parameter that no source
gives, and ``random.lognormvariate`` draws it. It does not model throttling, retries or cold
connections: a warm container's keep-alive connection to an endpoint in its own region.

The defaults and their sources are in :data:`DEFAULT_DELAYS`, each beside its figures. Where a page
gives a range or an order ("single-digit milliseconds", "tens of milliseconds") the number inside it is
our choice; where no page gives one, the whole figure is our assumption and says so. CloudWatch is
never called (metrics go out as EMF log lines), so it has no entry.

Configuration: ``INFERGATE_BENCH_LATENCY`` = ``default`` (or unset), ``off``, or the path of a JSON file
``{"seed": 7, "operations": {"dynamodb GetItem": {"median_ms": 4, "p99_ms": 12}, ...}}`` whose entries
replace the defaults they name (a median of 0 answers that operation at once).
``INFERGATE_BENCH_LATENCY_SEED`` sets the seed otherwise: one seed, one sequence of delays.
"""

import json
import math
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

VARIABLE = "INFERGATE_BENCH_LATENCY"
SEED_VARIABLE = "INFERGATE_BENCH_LATENCY_SEED"
DEFAULT_SEED = 20
_Z99 = 2.3263478740408408  # the standard normal's 0.99 quantile

OUR_ASSUMPTION = "our assumption: no published figure found"
DYNAMODB = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Introduction.html "
    '("What is Amazon DynamoDB?": "single-digit millisecond performance at any scale"); '
    "the value within single digits is our choice"
)
DYNAMODB_TRANSACTIONS = (
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html "
    '("Amazon DynamoDB Transactions: How it works", capacity: two underlying writes of every item, one to '
    "prepare the transaction, one to commit it); twice a single write's latency is our reading of that"
)
S3_SMALL = (
    "https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/"
    'timeouts-and-retries-for-latency-sensitive-applications.html ("Timeouts and Retries for '
    'Latency-Sensitive Applications": requests under 512 KB have "median latencies ... in the tens of '
    'milliseconds range"; retry a GET or PUT after 2 seconds); the values, and the p99s, are our choice'
)
SQS = OUR_ASSUMPTION + " for the SQS API in-region; set beside DynamoDB's, a few milliseconds above it"
SECRETS = OUR_ASSUMPTION + "; Powertools caches a secret per container (max_age), so the call is rare"
LAMBDA_INVOKE = OUR_ASSUMPTION + "; the synchronous invoke's round trip only, not the invoked function's own run time"


@dataclass(frozen=True)
class Delay:
    """A lognormal delay through ``median_ms`` and ``p99_ms``; ``source`` says where the figures come from."""

    median_ms: float
    p99_ms: float
    source: str

    def __post_init__(self) -> None:
        if self.median_ms < 0 or self.p99_ms < self.median_ms:
            raise ValueError(f"a delay needs 0 <= median <= p99, got {self.median_ms} and {self.p99_ms}")

    def draw(self, rng: random.Random) -> float:
        """Seconds."""
        if self.median_ms == 0:
            return 0.0
        sigma = math.log(self.p99_ms / self.median_ms) / _Z99
        return rng.lognormvariate(math.log(self.median_ms), sigma) / 1000


Operation = tuple[str, str]  # (botocore service name, operation name)

DEFAULT_DELAYS: Mapping[Operation, Delay] = {
    # DynamoDB: single-item reads and writes, a one-partition query page; on-demand table, same region.
    ("dynamodb", "GetItem"): Delay(4, 12, DYNAMODB),
    ("dynamodb", "Query"): Delay(5, 15, DYNAMODB),
    ("dynamodb", "PutItem"): Delay(5, 15, DYNAMODB),
    ("dynamodb", "UpdateItem"): Delay(5, 15, DYNAMODB),
    ("dynamodb", "DeleteItem"): Delay(5, 15, DYNAMODB),
    ("dynamodb", "TransactWriteItems"): Delay(10, 30, DYNAMODB_TRANSACTIONS),
    # SQS standard queues.
    ("sqs", "SendMessage"): Delay(8, 25, SQS),
    ("sqs", "SendMessageBatch"): Delay(10, 30, SQS),
    ("sqs", "ReceiveMessage"): Delay(8, 25, SQS),  # short poll: the benchmarks' receives find messages
    ("sqs", "DeleteMessage"): Delay(8, 25, SQS),
    ("sqs", "ChangeMessageVisibility"): Delay(8, 25, SQS),
    ("sqs", "ChangeMessageVisibilityBatch"): Delay(10, 30, SQS),
    # S3 Standard, small objects (our items' large outputs, batch chunks, uploaded parts' metadata).
    ("s3", "GetObject"): Delay(20, 100, S3_SMALL),
    ("s3", "HeadObject"): Delay(15, 80, S3_SMALL),
    ("s3", "PutObject"): Delay(30, 150, S3_SMALL),
    ("s3", "CopyObject"): Delay(40, 200, S3_SMALL),
    ("s3", "DeleteObjects"): Delay(30, 150, S3_SMALL),
    ("s3", "CreateMultipartUpload"): Delay(30, 150, S3_SMALL),
    ("s3", "UploadPart"): Delay(30, 150, S3_SMALL),  # the part's transfer time (its size) is not modelled
    ("s3", "CompleteMultipartUpload"): Delay(40, 200, S3_SMALL),
    ("s3", "AbortMultipartUpload"): Delay(30, 150, S3_SMALL),
    # Secrets Manager (webhook secrets, the cursor secret) and the synchronous artifact inspector.
    ("secretsmanager", "GetSecretValue"): Delay(15, 50, SECRETS),
    ("lambda", "Invoke"): Delay(30, 150, LAMBDA_INVOKE),
}


class UnmodelledOperationError(LookupError):
    """A call the model has no delay for: add one (with its source) rather than measure it as free."""


class LatencyModel:
    """Draws each call's delay from its operation's distribution, with its own seeded generator, and sleeps it.

    ``sleep`` is injectable so tests can check what was slept without waiting."""

    def __init__(
        self,
        delays: Mapping[Operation, Delay] = DEFAULT_DELAYS,
        seed: int = DEFAULT_SEED,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.delays = dict(delays)
        self.seed = seed
        self._rng = random.Random(seed)  # noqa: S311 - reproducible delays, not secrets
        self._sleep = sleep

    def draw(self, service: str, operation: str) -> float:
        """Seconds for one call, from the next number of this model's sequence."""
        try:
            delay = self.delays[(service, operation)]
        except KeyError:
            raise UnmodelledOperationError(f"no latency for {service} {operation} in bench/latency.py") from None
        return delay.draw(self._rng)

    def wait(self, service: str, operation: str) -> float:
        """Block for one call's drawn delay; the seconds slept."""
        seconds = self.draw(service, operation)
        if seconds:
            self._sleep(seconds)
        return seconds

    def fork(self, seed: int) -> "LatencyModel":
        """The same delays with a sequence of its own (e.g. one per function, in any order)."""
        return LatencyModel(self.delays, seed, self._sleep)


def load(path: Path, seed: int = DEFAULT_SEED) -> LatencyModel:
    """The defaults with a JSON file's ``operations`` put over them (and its ``seed``, if it has one)."""
    found = json.loads(path.read_text(encoding="utf-8"))
    delays = dict(DEFAULT_DELAYS)
    for name, figures in found.get("operations", {}).items():
        service, operation = name.split(" ", 1)
        source = figures.get("source", f"set in {path.name}")
        delays[(service, operation)] = Delay(float(figures["median_ms"]), float(figures["p99_ms"]), source)
    return LatencyModel(delays, int(found.get("seed", seed)))


def configured(environ: Mapping[str, str] = os.environ) -> LatencyModel | None:
    """The model ``INFERGATE_BENCH_LATENCY`` asks for: the defaults unless it is ``off`` or names a file."""
    setting = environ.get(VARIABLE, "default").strip() or "default"
    seed = int(environ.get(SEED_VARIABLE, DEFAULT_SEED))
    if setting == "off":
        return None
    if setting == "default":
        return LatencyModel(seed=seed)
    return load(Path(setting), seed)


def billed_gb_seconds(seconds: float, memory_mb: int) -> float:
    """Lambda's bill for one invocation's duration: rounded up to the millisecond, at the memory size."""
    return memory_mb / 1024 * math.ceil(seconds * 1000) / 1000


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.99: the p99) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]
