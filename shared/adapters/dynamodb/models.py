"""DynamoDB adapter for registered models.

Items under the tenant's partition, so another tenant's models are invisible by construction:
``MODEL#<name>#`` (the head: latest version and description) and ``MODEL#<name>#<version:09d>`` (one
immutable item per version). Names cannot contain ``#``, so one ``begins_with`` query reads a model
whole, and the highest version is the last item of that range.
"""

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared.adapters.dynamodb.table import call, error_code, is_condition_failure, tenant_pk
from shared.registry.models import (
    RUNTIMES,
    Artifact,
    Model,
    ModelVersion,
    NewVersion,
    TensorSpec,
    VersionRaceError,
    VersionTooLargeError,
)
from shared.registry.text import TextSpec

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, PutTypeDef, UpdateTypeDef

Item = dict[str, "AttributeValueTypeDef"]

PREFIX = "MODEL#"


def _head_sk(name: str) -> str:
    return f"{PREFIX}{name}#"


def _version_sk(name: str, version: int) -> str:
    return f"{PREFIX}{name}#{version:09d}"


class DynamoModelStore:
    def __init__(self, table_name: str, client: "DynamoDBClient") -> None:
        self._table = table_name
        self._client = client

    def list_models(self, tenant: str) -> list[Model]:
        return _group(self._query(tenant, PREFIX))

    def get_model(self, tenant: str, name: str) -> Model | None:
        models = _group(self._query(tenant, _head_sk(name)))
        return models[0] if models else None

    def get_version(self, tenant: str, name: str, version: int | None) -> ModelVersion | None:
        if version is not None:
            key: Item = {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": _version_sk(name, version)}}
            item = call(lambda: self._client.get_item(TableName=self._table, Key=key)).get("Item")
            return _version(item) if item else None
        response = call(
            lambda: self._client.query(
                TableName=self._table,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
                ExpressionAttributeValues={":pk": {"S": tenant_pk(tenant)}, ":prefix": {"S": _head_sk(name)}},
                ScanIndexForward=False,
                Limit=1,
                ConsistentRead=True,
            )
        )
        items = [item for item in response.get("Items", []) if "version" in item]
        return _version(items[0]) if items else None

    def add_version(self, tenant: str, new: NewVersion, created_at: str) -> ModelVersion:
        latest = self.get_version(tenant, new.name, None)
        number = 1 if latest is None else latest.version + 1
        version = new.numbered(number, created_at)
        head_update: UpdateTypeDef = {
            "TableName": self._table,
            "Key": {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": _head_sk(new.name)}},
            "UpdateExpression": "SET latest_version = :number, description = :description, model_name = :name",
            "ConditionExpression": (
                "attribute_not_exists(latest_version)" if latest is None else "latest_version = :previous"
            ),
            "ExpressionAttributeValues": {
                ":number": {"N": str(number)},
                ":description": {"S": new.description},
                ":name": {"S": new.name},
                **({} if latest is None else {":previous": {"N": str(latest.version)}}),
            },
        }
        version_put: PutTypeDef = {
            "TableName": self._table,
            "Item": _version_item(tenant, version),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        try:
            call(
                lambda: self._client.transact_write_items(TransactItems=[{"Update": head_update}, {"Put": version_put}])
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise VersionRaceError(new.name) from exc
            if _is_item_too_large(exc):
                raise VersionTooLargeError(new.name) from exc
            raise
        return version

    def _query(self, tenant: str, prefix: str) -> list[Item]:
        items: list[Item] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": tenant_pk(tenant)}, ":prefix": {"S": prefix}},
        }
        while True:
            response = call(lambda: self._client.query(**query))
            items += response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return items
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _is_item_too_large(exc: ClientError) -> bool:
    message = str(exc.response.get("Error", {}).get("Message", ""))
    return error_code(exc) == "ValidationException" and "Item size" in message


def _group(items: list[Item]) -> list[Model]:
    """Heads and their versions (in key order: each head precedes its versions) into models."""
    descriptions: dict[str, str] = {}
    versions: dict[str, list[ModelVersion]] = {}
    for item in items:
        if "version" in item:
            parsed = _version(item)
            versions.setdefault(parsed.name, []).append(parsed)
        else:
            descriptions[item["model_name"]["S"]] = item["description"]["S"]
    return [
        Model(name=name, description=descriptions.get(name, ""), versions=tuple(found))
        for name, found in sorted(versions.items())
    ]


def _version_item(tenant: str, version: ModelVersion) -> Item:
    item: Item = {
        "PK": {"S": tenant_pk(tenant)},
        "SK": {"S": _version_sk(version.name, version.version)},
        "model_name": {"S": version.name},
        "version": {"N": str(version.version)},
        "runtime": {"S": version.runtime},
        "input_schema": {"S": json.dumps(version.input_schema)},
        "output_schema": {"S": json.dumps(version.output_schema)},
        "created_at": {"S": version.created_at},
        "description": {"S": version.description},
        "inputs": {"S": json.dumps([_spec_json(spec) for spec in version.inputs])},
        "outputs": {"S": json.dumps([_spec_json(spec) for spec in version.outputs])},
    }
    if version.artifact is not None:
        item["artifact_sha256"] = {"S": version.artifact.sha256}
        item["artifact_size"] = {"N": str(version.artifact.size)}
        item["artifact_location"] = {"S": version.artifact.location}
    if version.text is not None:
        item["text"] = {"S": json.dumps(asdict(version.text))}
    return item


def _version(item: Item) -> ModelVersion:
    artifact = None
    if "artifact_sha256" in item:
        artifact = Artifact(
            sha256=item["artifact_sha256"]["S"],
            size=int(item["artifact_size"]["N"]),
            location=item["artifact_location"]["S"],
        )
    runtime = next((known for known in RUNTIMES if known == item["runtime"]["S"]), None)
    if runtime is None:
        raise ValueError(f"stored model version has an unknown runtime {item['runtime']['S']!r}")
    return ModelVersion(
        name=item["model_name"]["S"],
        version=int(item["version"]["N"]),
        runtime=runtime,
        input_schema=json.loads(item["input_schema"]["S"]),
        output_schema=json.loads(item["output_schema"]["S"]),
        created_at=item["created_at"]["S"],
        artifact=artifact,
        description=item["description"]["S"],
        inputs=tuple(_spec(raw) for raw in json.loads(item["inputs"]["S"])),
        outputs=tuple(_spec(raw) for raw in json.loads(item["outputs"]["S"])),
        text=_text(json.loads(item["text"]["S"])) if "text" in item else None,
    )


def _text(raw: dict[str, Any]) -> TextSpec:
    return TextSpec(**{**raw, "labels": tuple(raw.get("labels", ()))})


def _spec_json(spec: TensorSpec) -> dict[str, Any]:
    return {"name": spec.name, "datatype": spec.datatype, "shape": list(spec.shape)}


def _spec(raw: dict[str, Any]) -> TensorSpec:
    return TensorSpec(name=str(raw["name"]), datatype=str(raw["datatype"]), shape=tuple(int(d) for d in raw["shape"]))
