"""The operator commands and their answers: the invoke payload of ``RunAdminCommandFunction``.

A command is a JSON object named by its ``command`` member; the answer is ``{"result": ...}`` or
``{"error": {"type", "detail"}}``. The ``infergate admin`` command line sends exactly these.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.keys.models import Scope

DeadLetterKind = Literal["predictions", "batches", "webhooks"]
DEAD_LETTER_KINDS: tuple[DeadLetterKind, ...] = ("predictions", "batches", "webhooks")
MAX_REDRIVE = 1000  # messages moved per invocation: well inside the function's timeout
MAX_SHOWN = 1000  # messages listed per queue and invocation: the answer stays far under Lambda's 6 MB
SHOWN_BODY_CHARS = 2048  # a longer body (ours are ids only) is shown cut, as text


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MintKey(_Command):
    """Mint an API key for a tenant and answer its secret, once (there is no HTTP route to a first key)."""

    command: Literal["mint-key"]
    tenant: str
    name: str = Field(default="bootstrap admin", min_length=1, max_length=100)
    scopes: tuple[Scope, ...] = Field(default=(Scope.ADMIN,), min_length=1)


class ShowDeadLetters(_Command):
    """Peek at what the dead-letter queues hold, without consuming it (ids only: no inputs, no secrets)."""

    command: Literal["show-dead-letters"]
    queue: DeadLetterKind | None = None  # None: all three
    limit: int = Field(default=100, ge=1, le=MAX_SHOWN)  # per queue


class Redrive(_Command):
    """Move up to ``limit`` messages of one dead-letter queue back to its queue; ``more`` says to call again."""

    command: Literal["redrive"]
    queue: DeadLetterKind
    limit: int = Field(default=MAX_REDRIVE, ge=1, le=MAX_REDRIVE)


AdminCommand = Annotated[MintKey | ShowDeadLetters | Redrive, Field(discriminator="command")]


class DeadLetter(BaseModel):
    """One parked message, as ``show-dead-letters`` lists it."""

    queue: DeadLetterKind
    message_id: str
    receive_count: int
    sent_timestamp: int  # milliseconds since the epoch, as SQS reports it
    body: Any  # the JSON body; a body that is not JSON, or too long, as (cut) text


class Redriven(BaseModel):
    queue: DeadLetterKind
    redriven: int
    more: bool  # the limit was reached: the queue may hold more
