"""Idempotency claims in the table: ``TENANT#<t> / <prefix><sha256(key)>``, written in the same
transaction as the resource they name, so a claim never points to something that does not exist."""

import time
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from shared.adapters.dynamodb.table import call, error_code, lost_item, tenant_pk
from shared.kernel.errors import TransientError
from shared.kernel.idempotency import IdempotencyClaim, IdempotentReplayError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

Item = dict[str, "AttributeValueTypeDef"]


def claim_put(
    table: str, tenant: str, claim: IdempotencyClaim, prefix: str, id_attribute: str, resource_id: str
) -> "TransactWriteItemTypeDef":
    """The transaction item that takes the claim (an expired claim counts as absent: TTL deletes lazily)."""
    item: Item = {
        "PK": {"S": tenant_pk(tenant)},
        "SK": {"S": prefix + claim.key_hash},
        "kind": {"S": "idempotency_claim"},
        id_attribute: {"S": resource_id},
        "fingerprint": {"S": claim.fingerprint},
        "expires_at": {"N": str(claim.expires_at)},
    }
    return {
        "Put": {
            "TableName": table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(PK) OR expires_at < :now",
            "ExpressionAttributeValues": {":now": {"N": str(int(time.time()))}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",  # a held claim comes back with the failure
        }
    }


def release_claim(
    client: "DynamoDBClient",
    table: str,
    tenant: str,
    claim: IdempotencyClaim,
    prefix: str,
    id_attribute: str,
    resource_id: str,
) -> None:
    """Let the claim's key be used again at once: it expires now, if it still names ``resource_id`` (an
    UpdateItem: the claim's item outlives it until TTL deletes it, and ``claim_put`` takes it anew)."""
    try:
        call(
            lambda: client.update_item(
                TableName=table,
                Key=_claim_key(tenant, claim, prefix),
                UpdateExpression="SET expires_at = :expired",
                ConditionExpression="#id = :id",
                ExpressionAttributeNames={"#id": id_attribute},
                ExpressionAttributeValues={":expired": {"N": "0"}, ":id": {"S": resource_id}},
            )
        )
    except ClientError as exc:
        if error_code(exc) != "ConditionalCheckFailedException":
            raise
        # The claim names another resource now (or is gone): nothing of ours to release.


def _claim_key(tenant: str, claim: IdempotencyClaim, prefix: str) -> Item:
    return {"PK": {"S": tenant_pk(tenant)}, "SK": {"S": prefix + claim.key_hash}}


def replay_of(
    client: "DynamoDBClient",
    table: str,
    tenant: str,
    claim: IdempotencyClaim,
    prefix: str,
    id_attribute: str,
    lost: ClientError,
) -> IdempotentReplayError | TransientError:
    """After the claim's transaction lost its condition: what the held claim says, to raise. The claim
    comes back with the failure; it is read only if it did not (it was not what failed)."""
    key = _claim_key(tenant, claim, prefix)
    returned = (lost_item(lost, index) for index in range(len(lost.response.get("CancellationReasons", []))))
    held = next((item for item in returned if item is not None and item.get("SK") == key["SK"]), None)
    if held is None:
        held = call(lambda: client.get_item(TableName=table, Key=key, ConsistentRead=True)).get("Item")
    if held is None:  # the claim expired between the two calls: let the caller retry
        error: IdempotentReplayError | TransientError = TransientError("an idempotency claim changed concurrently")
    else:
        error = IdempotentReplayError(held[id_attribute]["S"], held["fingerprint"]["S"])
    error.__cause__ = lost
    return error
