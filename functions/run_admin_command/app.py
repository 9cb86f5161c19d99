"""Invoked by an operator (``infergate admin``), never routed: mint a tenant's first key, look into the
dead-letter queues and move their messages back. Calling it takes ``lambda:InvokeFunction`` on it, an
operator's AWS permission, which is what makes it the bootstrap: there is no HTTP route to a first key.

The payload is one command of ``shared.operations.commands``; the answer is ``{"result": ...}``, or
``{"error": {"type", "detail"}}`` for a command it cannot run (nothing changed then).
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter, ValidationError

from shared.kernel.observability import logged_invocation, logger
from shared.keys.models import InvalidTenantError
from shared.operations.commands import AdminCommand
from shared.wiring import operations

_COMMAND: TypeAdapter[AdminCommand] = TypeAdapter(AdminCommand)


@logged_invocation
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        command = _COMMAND.validate_python(event)
    except ValidationError as invalid:
        detail = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'command'}: {e['msg']}" for e in invalid.errors())
        return {"error": {"type": "invalid-command", "detail": detail}}
    logger.info("admin command", extra={"command": command.command})
    try:
        result = operations().run(command)
    except InvalidTenantError as invalid:
        return {"error": {"type": "invalid-tenant", "detail": str(invalid)}}
    return {"result": result.model_dump(mode="json")}
