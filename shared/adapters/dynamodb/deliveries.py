"""DynamoDB adapter for webhook deliveries (the outbox) and per-tenant webhook secrets.

Delivery ``TENANT#<t> / DLVR#<prediction id>#<delivery id>``: written in the same transaction as the
status change that caused it. While nobody has attempted it yet it carries ``outbox_pk`` /
``outbox_sk`` (a sparse GSI), so the relay can find hand-offs that a crash lost.
Secrets ``TENANT#<t> / WEBHOOK_SECRET``.
"""

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from shared.adapters.dynamodb.table import call, is_condition_failure, tenant_pk
from shared.kernel.outbox import EventType, PlannedDelivery
from shared.webhooks.models import (
    AttemptConflictError,
    AttemptOutcome,
    Delivery,
    DeliveryNotFoundError,
    DeliveryStatus,
    WebhookSecrets,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]

PREFIX = "DLVR#"
OUTBOX_INDEX = "Outbox"
OUTBOX_PARTITION = "OUTBOX"
SECRET_SK = "WEBHOOK_SECRET"  # noqa: S105 - a sort key, not a secret


def delivery_item(tenant: str, prediction_id: str, planned: PlannedDelivery, at: str) -> Item:
    return {
        "PK": {"S": tenant_pk(tenant)},
        "SK": {"S": f"{PREFIX}{prediction_id}#{planned.id}"},
        "kind": {"S": "webhook_delivery"},
        "event": {"S": planned.event.value},
        "url": {"S": planned.url},
        "status": {"S": DeliveryStatus.PENDING.value},
        "attempts": {"N": "0"},
        "round_attempts": {"N": "0"},
        "created_at": {"S": at},
        "expires_at": {"N": str(planned.expires_at)},
        "outbox_pk": {"S": OUTBOX_PARTITION},
        "outbox_sk": {"S": f"{at}#{tenant}#{prediction_id}#{planned.id}"},
    }


class DynamoDeliveryStore:
    def __init__(self, table_name: str, client: "DynamoDBClient") -> None:
        self._table = table_name
        self._client = client

    def get(self, tenant: str, prediction_id: str, delivery_id: str) -> Delivery:
        key = _key(tenant, prediction_id, delivery_id)
        item = call(lambda: self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True)).get("Item")
        if item is None:
            raise DeliveryNotFoundError(delivery_id)
        return _from_item(item)

    def list_for_prediction(self, tenant: str, prediction_id: str) -> list[Delivery]:
        response = call(
            lambda: self._client.query(
                TableName=self._table,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
                ExpressionAttributeValues={
                    ":pk": {"S": tenant_pk(tenant)},
                    ":prefix": {"S": f"{PREFIX}{prediction_id}#"},
                },
                ConsistentRead=True,
            )
        )
        return [_from_item(item) for item in response.get("Items", [])]

    def record_attempt(self, delivery: Delivery, outcome: AttemptOutcome) -> Delivery:
        """Count one attempt, conditional on nobody else having counted one since ``delivery`` was read."""
        values: dict[str, Any] = {
            ":status": {"S": outcome.status.value},
            ":at": {"S": outcome.at},
            ":attempts": {"N": str(delivery.attempts + 1)},
            ":round": {"N": str(delivery.round_attempts + 1)},
            ":seen": {"N": str(delivery.attempts)},
            ":pending": {"S": DeliveryStatus.PENDING.value},
        }
        sets = ["#status = :status", "last_attempt_at = :at", "attempts = :attempts", "round_attempts = :round"]
        removes = ["outbox_pk", "outbox_sk"]
        for name, value, kind in (
            ("last_status_code", outcome.status_code, "N"),
            ("last_error", outcome.error, "S"),
            ("next_attempt_at", outcome.next_attempt_at, "S"),
        ):
            if value is None:
                removes.append(name)
            else:
                values[f":{name}"] = {kind: str(value)}
                sets.append(f"{name} = :{name}")
        update = f"SET {', '.join(sets)} REMOVE {', '.join(removes)}"
        return self._update(delivery, update, "attempts = :seen AND #status = :pending", values)

    def reopen(self, delivery: Delivery) -> Delivery:
        """Redrive: a failed delivery gets a fresh retry schedule."""
        values = {
            ":pending": {"S": DeliveryStatus.PENDING.value},
            ":failed": {"S": DeliveryStatus.FAILED.value},
            ":zero": {"N": "0"},
        }
        update = "SET #status = :pending, round_attempts = :zero REMOVE next_attempt_at"
        return self._update(delivery, update, "#status = :failed", values)

    def _update(self, delivery: Delivery, update: str, condition: str, values: dict[str, Any]) -> Delivery:
        """``delivery``'s item updated if ``condition`` holds (``#status`` names its status), as written;
        else AttemptConflictError: someone else changed it since it was read."""
        try:
            response = call(
                lambda: self._client.update_item(
                    TableName=self._table,
                    Key=_key(delivery.tenant, delivery.prediction_id, delivery.id),
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                )
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise AttemptConflictError() from exc
            raise
        return _from_item(response["Attributes"])

    def outbox_due(self, created_before: str, limit: int = 100) -> list[tuple[str, str, str]]:
        """(tenant, prediction id, delivery id) of deliveries nobody has attempted since before the cut-off."""
        response = call(
            lambda: self._client.query(
                TableName=self._table,
                IndexName=OUTBOX_INDEX,
                KeyConditionExpression="outbox_pk = :pk AND outbox_sk < :cut",
                ExpressionAttributeValues={":pk": {"S": OUTBOX_PARTITION}, ":cut": {"S": created_before}},
                Limit=limit,
            )
        )
        found = []
        for item in response.get("Items", []):
            tenant = item["PK"]["S"].removeprefix("TENANT#")
            prediction_id, delivery_id = item["SK"]["S"].removeprefix(PREFIX).split("#", 1)
            found.append((tenant, prediction_id, delivery_id))
        return found

    def postpone_outbox(self, tenant: str, prediction_id: str, delivery_id: str, at: str) -> bool:
        """Move a relayed entry's outbox time to ``at`` (so it is relayed again only if still unattempted
        later); False when it left the outbox meanwhile."""
        try:
            call(
                lambda: self._client.update_item(
                    TableName=self._table,
                    Key=_key(tenant, prediction_id, delivery_id),
                    UpdateExpression="SET outbox_sk = :sk",
                    ConditionExpression="attribute_exists(outbox_pk)",
                    ExpressionAttributeValues={":sk": {"S": f"{at}#{tenant}#{prediction_id}#{delivery_id}"}},
                )
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def secrets(self, tenant: str) -> WebhookSecrets | None:
        key = {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": SECRET_SK}}
        item = call(lambda: self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True)).get("Item")
        if item is None:
            return None
        return WebhookSecrets(
            current=item["current"]["S"],
            previous=item["previous"]["S"] if "previous" in item else None,
            previous_valid_until=int(item["previous_valid_until"]["N"]) if "previous_valid_until" in item else None,
        )

    def save_secrets(self, tenant: str, secrets: WebhookSecrets, replacing: WebhookSecrets | None) -> bool:
        """Write conditionally on the current value being ``replacing``; False when someone else won."""
        item: Item = {
            "PK": {"S": tenant_pk(tenant)},
            "SK": {"S": SECRET_SK},
            "kind": {"S": "webhook_secret"},
            "current": {"S": secrets.current},
        }
        if secrets.previous and secrets.previous_valid_until:
            item["previous"] = {"S": secrets.previous}
            item["previous_valid_until"] = {"N": str(secrets.previous_valid_until)}
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"}
        if replacing is not None:
            condition = {"ConditionExpression": "#current = :seen", "ExpressionAttributeNames": {"#current": "current"}}
            condition["ExpressionAttributeValues"] = {":seen": {"S": replacing.current}}
        try:
            call(lambda: self._client.put_item(TableName=self._table, Item=item, **condition))
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True


def _key(tenant: str, prediction_id: str, delivery_id: str) -> Item:
    return {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": f"{PREFIX}{prediction_id}#{delivery_id}"}}


def _from_item(item: Item) -> Delivery:
    prediction_id, delivery_id = item["SK"]["S"].removeprefix(PREFIX).split("#", 1)
    return Delivery(
        id=delivery_id,
        tenant=item["PK"]["S"].removeprefix("TENANT#"),
        prediction_id=prediction_id,
        event=EventType(item["event"]["S"]),
        url=item["url"]["S"],
        status=DeliveryStatus(item["status"]["S"]),
        created_at=item["created_at"]["S"],
        expires_at=int(item["expires_at"]["N"]),
        attempts=int(item["attempts"]["N"]),
        round_attempts=int(item["round_attempts"]["N"]),
        last_attempt_at=item["last_attempt_at"]["S"] if "last_attempt_at" in item else None,
        last_status_code=int(item["last_status_code"]["N"]) if "last_status_code" in item else None,
        last_error=item["last_error"]["S"] if "last_error" in item else None,
        next_attempt_at=item["next_attempt_at"]["S"] if "next_attempt_at" in item else None,
    )
