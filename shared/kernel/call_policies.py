"""How long each network call of the service may take and how often it is made: the one place for these numbers.

``shared.adapters.clients`` builds every AWS client from one of the ``AwsCallPolicy`` values below (a test fails
on a client made anywhere else in ``shared`` or ``functions``), and ``shared.webhooks.http`` takes the webhook
receivers' timeouts from here. The table "Timeouts and retries" of ``docs/architecture.md`` is generated from
this module (``make openapi``; a contract test fails when it is stale), and a contract test checks each
policy's worst case against the ``Timeout`` of every function whose role can make the call (template.yaml).

The terms, as botocore uses them:

- ``connect_seconds``: opening the TCP connection.
- ``read_seconds``: how long the service may stay silent on an open connection, per socket read. It is not a
  bound on a whole answer: an S3 body streams for as long as bytes keep coming.
- ``attempts``: in total, the first included (botocore's ``total_max_attempts``; its ``max_attempts`` counts
  retries only, so ``max_attempts: 3`` made 4 attempts).
- retries are botocore's ``standard`` mode: throttling, 5xx, connection errors and read timeouts are retried
  after a jittered exponential backoff (throttling from 1 s; botocore may lengthen a wait by up to 5 s when
  the service sends ``x-amz-retry-after``), drawing on a per-client retry quota.

Why two attempts everywhere but the inspector: one quick retry absorbs a dropped keep-alive connection or a
single throttle; beyond that the caller retries better than the function does. An API function answers a
503 with ``Retry-After`` (the client library retries it), a queue worker lets its message come back, and
both stay within their own ``Timeout`` (15 s for most API functions) even in the worst case.
"""

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class AwsCallPolicy:
    """One service's calls. The defaults are the short-call budget every service but the inspector keeps: a
    1 s connect, 3 s of silence, two attempts."""

    service: str  # botocore's service name
    calls: str  # what the service is called for, as the documentation's table names it
    why: str
    connect_seconds: float = 1
    read_seconds: float = 3
    attempts: int = 2  # in total, the first included
    retry_mode: Literal["standard", "adaptive", "legacy"] = "standard"


DYNAMODB = AwsCallPolicy(
    service="dynamodb",
    calls="DynamoDB: every read, conditional write, transaction and query (all functions)",
    why="items and pages of at most 1 MB answer in milliseconds; throttling and faults beyond one retry become "
    "a 503 (API) or the message's redelivery (workers)",
)
SQS = AwsCallPolicy(
    service="sqs",
    calls="SQS: SendMessage from API functions and workers, visibility changes, the admin commands' receives",
    why="small messages; CreatePrediction sends after its write, under API Gateway's 30 s; the DLQ receives "
    "long-poll 1 s (`WaitTimeSeconds`), under the read timeout",
)
S3 = AwsCallPolicy(
    service="s3",
    calls="S3: GET/PUT/HEAD/DELETE of uploads, artifacts and batch files, multipart assembly",
    why="the read timeout is S3's silence, not a transfer's length (a 100 MiB GET streams on); S3's own "
    "guidance retries a request that is slow to start after about 2 s; CompleteMultipartUpload keeps its "
    "connection alive with whitespace",
)
S3_DOWNLOAD_ATTEMPTS = 2  # s3transfer's attempts per part of a download (``num_download_attempts``; default 5)
SECRETS_MANAGER = AwsCallPolicy(
    service="secretsmanager",
    calls="Secrets Manager: GetSecretValue of the cursor key (Powertools' provider on this client, cached)",
    why="the list routes read it on first use and cache it in the container, so few requests ever wait on it",
)
INSPECTOR_INVOKE = AwsCallPolicy(
    service="lambda",
    calls="Lambda: CreateModelVersion's synchronous invoke of InspectModelArtifact",
    connect_seconds=1,
    read_seconds=26,  # longer than the inspector's Timeout (25 s), shorter than CreateModelVersion's (29 s)
    attempts=1,
    why="never retried: a retry after a read timeout would inspect twice and outlive API Gateway's 30 s; "
    "the read timeout outlasts the inspector, so its own answer (or timeout) arrives; the caller's 503 is "
    "the retry",
)

AWS_POLICIES: tuple[AwsCallPolicy, ...] = (DYNAMODB, SQS, S3, SECRETS_MANAGER, INSPECTOR_INVOKE)


@dataclass(frozen=True)
class WebhookCallPolicy:
    """One delivery attempt: a POST bounded as a whole, retried by the SQS schedule, never in the call."""

    connect_seconds: float  # per resolved address, so a dead first address leaves time for the next
    deadline_seconds: float  # the whole attempt: DNS, connecting, TLS, sending, the answer's head and body


WEBHOOK = WebhookCallPolicy(connect_seconds=3, deadline_seconds=10)


@dataclass(frozen=True)
class TraceExportPolicy:
    """One export of an invocation's spans to the OTLP/HTTP endpoint (tracing on only; ``shared.adapters.tracing``).

    The handler waits for it before answering (Lambda freezes the process after), so it is short: a collector
    beside the function (an extension on localhost) answers in milliseconds, and a tracing backend that is down
    must not hold every request. The exporter retries within the deadline; spans it could not send are lost.
    """

    deadline_seconds: float


TRACE_EXPORT = TraceExportPolicy(deadline_seconds=1)
