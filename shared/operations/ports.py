"""What the operator commands need of the queues."""

from typing import Protocol

from shared.operations.commands import DeadLetter, DeadLetterKind


class DeadLetterQueue(Protocol):
    def peek(self, kind: DeadLetterKind, limit: int) -> list[DeadLetter]:
        """Up to ``limit`` of the messages the queue holds, left visible (each peek counts as a receive)."""
        ...

    def move_back(self, limit: int) -> int:
        """Send up to ``limit`` messages to the queue they came from, as they are, and delete them here."""
        ...
