"""Count the AWS calls code makes (at botocore's client level), and price them at us-east-1 list prices.

Prices (2026-11, us-east-1): API Gateway HTTP API $1.00/M requests; Lambda arm64 $0.20/M requests and
$0.0000133334/GB-s; DynamoDB on-demand $0.625/M write and $0.125/M read request units; S3 Standard
$0.005/1,000 PUT/COPY/POST/LIST and $0.0004/1,000 GET/HEAD; SQS standard $0.40/M requests.
"""

import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient

PRICES = {  # dollars per request or unit
    "apigateway": 1.00 / 1e6,
    "lambda:request": 0.20 / 1e6,
    "lambda:gb-second": 0.0000133334,
    "dynamodb:write": 0.625 / 1e6,
    "dynamodb:read": 0.125 / 1e6,
    "s3:put": 0.005 / 1000,
    "s3:get": 0.0004 / 1000,
    "sqs": 0.40 / 1e6,
}
# The request kinds the cost tables count, with their labels (keys of PRICES).
REQUEST_KINDS = (
    ("API Gateway requests", "apigateway"),
    ("DynamoDB write requests", "dynamodb:write"),
    ("DynamoDB read requests", "dynamodb:read"),
    ("S3 PUT/COPY requests", "s3:put"),
    ("S3 GET/HEAD requests", "s3:get"),
    ("SQS requests", "sqs"),
)
S3_PUT_CLASS = {"PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"}
DYNAMO_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}

Calls = Counter[tuple[str, str]]


RATE_LIMIT = " (rate limit)"  # the label ``counting(label_rate_limits=True)`` gives the rate limiter's writes


@contextmanager
def counting(label_rate_limits: bool = False) -> Iterator[Calls]:
    """Every AWS call made through botocore while the block runs: (service, operation) -> count.

    ``TransactWriteItems`` counts as two writes per item it holds (that is how DynamoDB bills it). With
    ``label_rate_limits``, DynamoDB calls on a rate-limit item (``RATE#...``) count as ``<operation> (rate
    limit)``."""
    calls: Calls = Counter()
    original: Callable[..., Any] = vars(BaseClient)["_make_api_call"]  # private and untyped: patched by name

    def counted(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        if operation == "TransactWriteItems":
            calls[(service, "TransactWriteItems (per item, x2)")] += 2 * len(params["TransactItems"])
        elif label_rate_limits and str(params.get("Key", {}).get("PK", {}).get("S", "")).startswith("RATE#"):
            calls[(service, operation + RATE_LIMIT)] += 1
        else:
            calls[(service, operation)] += 1
        return original(self, operation, params)

    setattr(BaseClient, "_make_api_call", counted)  # noqa: B010
    try:
        yield calls
    finally:
        setattr(BaseClient, "_make_api_call", original)  # noqa: B010


def billable(calls: Calls) -> Counter[str]:
    """Request units by price line (DynamoDB writes as one 1 KB unit each: our items stay under 1-2 KB)."""
    units: Counter[str] = Counter()
    for (service, operation), count in calls.items():
        if service == "dynamodb":
            write = operation.split(" ")[0] in DYNAMO_WRITES or operation.startswith("TransactWriteItems")
            units["dynamodb:write" if write else "dynamodb:read"] += count
        elif service == "s3":
            units["s3:put" if operation.split(" ")[0] in S3_PUT_CLASS else "s3:get"] += count
        elif service == "sqs":
            units["sqs"] += count
    return units


def price(units: Counter[str]) -> float:
    return sum(PRICES[kind] * count for kind, count in units.items())


def fake_aws_environment() -> None:
    """Fake credentials, no real endpoint: everything below runs on moto in this process."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_PROFILE"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
