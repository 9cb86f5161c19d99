"""A table on the local stack's AWS emulator (a moto server answering calls one at a time, so thread-safe),
for tests whose point is real concurrency, which moto's in-process backend cannot take."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3


@contextmanager
def emulated_table(name: str) -> Iterator[str]:
    """A running emulator holding an empty ``PK``/``SK`` table ``name``; yields its endpoint URL."""
    from tools.devstack import free_port
    from tools.emulator import EmulatorProcess

    emulator = EmulatorProcess("127.0.0.1", free_port())
    emulator.start()
    try:
        emulator_client(emulator.endpoint_url).create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield emulator.endpoint_url
    finally:
        emulator.stop()


def emulator_client(endpoint: str) -> Any:
    """A DynamoDB client of its own (one per simulated container) on the emulator."""
    session = boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    return session.client("dynamodb", endpoint_url=endpoint)
