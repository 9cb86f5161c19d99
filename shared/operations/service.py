"""Run one operator command against the services it needs."""

from collections.abc import Callable, Mapping

from pydantic import BaseModel

from shared.keys.service import KeyService
from shared.operations.commands import (
    DEAD_LETTER_KINDS,
    AdminCommand,
    DeadLetter,
    DeadLetterKind,
    MintKey,
    Redrive,
    Redriven,
    ShowDeadLetters,
)
from shared.operations.ports import DeadLetterQueue


class MintedKey(BaseModel):
    id: str
    tenant: str
    name: str
    scopes: list[str]
    key: str  # the secret: answered once, only its hash is kept


class DeadLetters(BaseModel):
    messages: list[DeadLetter]
    truncated: list[DeadLetterKind]  # the queues that may hold more than were listed (their limit was reached)


class Operations:
    """``dead_letters``: the predictions and batches DLQs (moved back as they are); ``redrive_webhooks``: the
    webhooks DLQ, whose deliveries also get a fresh retry schedule (``shared.webhooks.worker.redrive``)."""

    def __init__(
        self,
        keys: KeyService,
        dead_letters: Mapping[DeadLetterKind, DeadLetterQueue],
        redrive_webhooks: Callable[[int], int],
    ) -> None:
        self._keys = keys
        self._dead_letters = dead_letters
        self._redrive_webhooks = redrive_webhooks

    def run(self, command: AdminCommand) -> BaseModel:
        if isinstance(command, MintKey):
            key, secret = self._keys.create(command.tenant, command.name, command.scopes)
            return MintedKey(id=key.id, tenant=key.tenant, name=key.name, scopes=sorted(key.scopes), key=secret)
        if isinstance(command, ShowDeadLetters):
            kinds = (command.queue,) if command.queue else DEAD_LETTER_KINDS
            found = {kind: self._dead_letters[kind].peek(kind, command.limit) for kind in kinds}
            return DeadLetters(
                messages=[message for shown in found.values() for message in shown],
                truncated=[kind for kind, shown in found.items() if len(shown) >= command.limit],
            )
        return self._redrive(command)

    def _redrive(self, command: Redrive) -> Redriven:
        if command.queue == "webhooks":
            moved = self._redrive_webhooks(command.limit)
        else:
            moved = self._dead_letters[command.queue].move_back(command.limit)
        return Redriven(queue=command.queue, redriven=moved, more=moved >= command.limit)
