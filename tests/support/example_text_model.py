"""The example embedding model the committed ``events/create_embeddings.json`` names: the tests' tiny text model
(``tests.support.text_models``), stored as registration stores it (the checked archive under ``artifacts/`` and
its version item), without running the inspector. Seeded by the sample-event and built-artifact tests."""

import hashlib
from typing import TYPE_CHECKING

from shared.adapters.dynamodb.models import DynamoModelStore
from shared.kernel.clock import to_rfc3339, utc_now
from shared.registry.models import Artifact, ModelVersion, NewVersion
from shared.registry.text import TextSpec
from tests.support.text_models import DIM, MAX_POSITIONS, files, tar_gz

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

EMBEDDING_MODEL = "example-embedder"
EMBEDDING_SPEC = TextSpec(task="feature-extraction", max_tokens=MAX_POSITIONS, dimension=DIM)


def store_example_text_model(
    tenant: str, table: str, bucket: str, dynamodb: "DynamoDBClient", s3: "S3Client"
) -> ModelVersion:
    archive = tar_gz(files())
    digest = hashlib.sha256(archive).hexdigest()
    key = f"artifacts/{tenant}/{EMBEDDING_MODEL}/{digest}.tar.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=archive)
    new = NewVersion(
        name=EMBEDDING_MODEL,
        runtime="text",
        input_schema=EMBEDDING_SPEC.input_schema(),
        output_schema=EMBEDDING_SPEC.output_schema(),
        description="The tests' tiny embedding model.",
        artifact=Artifact(digest, len(archive), key),
        inputs=(),
        outputs=(),
        text=EMBEDDING_SPEC,
    )
    return DynamoModelStore(table, dynamodb).add_version(tenant, new, to_rfc3339(utc_now()))
