"""``make dev``: the whole stack in two processes, no Docker, no AWS account.

The AWS emulator runs in a child process (``tools.emulator.EmulatorProcess``): moto in server mode,
so the AWS CLI and presigned URLs work against it, one call at a time. The resources of
``template.yaml`` are created in it. Every function runs in this process, on threads: the routers of
the route functions served by uvicorn on ``http://127.0.0.1:$PORT`` (Swagger UI at ``/docs``),
pollers that feed queue functions SQS-shaped events, timers for scheduled functions, and the local
Lambda Invoke API. Ctrl-C (SIGINT) or SIGTERM stops the threads first, then the emulator (which
ignores Ctrl-C so the pollers can drain against it, and exits by itself if this process dies).
"""

import json
import logging
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import uvicorn
from infergate.admin import LOCAL_STATE_FILE, LOCAL_STATE_VARIABLE

from shared.keys.models import looks_like_key
from tools.emulator import EmulatorProcess
from tools.enforcement import enforce_roles, switch_on_server
from tools.local_lambda import LocalLambda
from tools.local_roles import LocalRoles
from tools.pollers import QueuePoller, ScheduledInvoker
from tools.provision import Stack, function_environment, function_environments, provision
from tools.template import ROOT, Template, load_template, rate_seconds

LOCAL_OVERRIDES = (
    "RATE_LIMIT_PER_SECOND",
    "RATE_LIMIT_BURST",
    "TENANT_RATE_LIMIT_PER_SECOND",
    "TENANT_RATE_LIMIT_BURST",
    "MAX_KEYS_PER_TENANT",
    "POWERTOOLS_LOG_LEVEL",
    "JWT_TENANT_CLAIM",
    "JWT_SCOPES_CLAIM",
    "JWT_PREDICT_SCOPE",
    "JWT_ADMIN_SCOPE",
    # `TRACING=On TRACING_ENDPOINT=http://127.0.0.1:4318/v1/traces make dev`: the template's Tracing and
    # TracingEndpoint, spans sent to a collector on this machine (docs/architecture.md, "Tracing")
    "TRACING",
    "TRACING_ENDPOINT",
)
# Where `infergate admin --local` looks for it: the client names the file and its variable, the stack obeys.
STATE_FILE = Path(os.environ.get(LOCAL_STATE_VARIABLE) or ROOT / LOCAL_STATE_FILE)
# The built-in text models, as `make embedding-model` builds them (the EmbeddingModelLayer's recipe); Lambda
# reads them from the layer (/opt/models). INFERGATE_DEV_MODELS_DIR points the local stack at another build.
MODELS_DIR = Path(os.environ.get("INFERGATE_DEV_MODELS_DIR") or ROOT / ".aws-sam" / "models")
REGION = "us-east-1"
DEV_TENANT = "local"
POLLERS_PER_QUEUE = 4
log = logging.getLogger("infergate.local")


@dataclass(frozen=True)
class LocalStack:
    base_url: str
    aws_endpoint_url: str
    admin_key: str
    stack: Stack
    roles: LocalRoles
    pollers: list[QueuePoller | ScheduledInvoker]
    functions: LocalLambda


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def point_aws_at(endpoint_url: str, operator: dict[str, str] | None = None) -> None:
    """Every boto3 client of this process talks to the emulator: as the stack's ``operator`` (its state
    file's ``access_key_id`` and ``secret_access_key``), else with fake credentials (before enforcement)."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": operator["access_key_id"] if operator else "testing",
            "AWS_SECRET_ACCESS_KEY": operator["secret_access_key"] if operator else "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
        }
    )
    if operator:
        os.environ.pop("AWS_SESSION_TOKEN", None)
    else:
        os.environ["AWS_SESSION_TOKEN"] = "testing"  # noqa: S105 - the emulator's fake credentials
    os.environ.pop("AWS_PROFILE", None)


def seed_admin_key(secret: str | None) -> str:
    """Register INFERGATE_DEV_ADMIN_KEY (or a fresh key) as an admin key of the local tenant."""
    from shared.keys.models import Scope
    from shared.wiring import key_service

    if secret:
        key_service().import_secret(DEV_TENANT, "local admin", [Scope.ADMIN], secret)
        return secret
    _, generated = key_service().create(DEV_TENANT, "local admin", [Scope.ADMIN])
    return generated


def start_pollers(template: Template, stack: Stack) -> list[QueuePoller | ScheduledInvoker]:
    """Pollers per SQS event source and one timer per schedule, as the template declares them.

    Lambda reads a standard queue with several batches in flight at once (five pollers to start
    with); so does the local stack, with ``POLLERS_PER_QUEUE`` threads per event source. With one,
    a busy API starved the workers: each of their AWS calls queued behind the API's at the emulator.
    """
    sqs = boto3.client("sqs")
    pollers: list[QueuePoller | ScheduledInvoker] = []
    for spec in template.functions:
        for trigger in spec.queue_triggers:
            pollers += [
                QueuePoller(spec, trigger, stack.refs[trigger.queue], stack.arns[trigger.queue], sqs, number)
                for number in range(POLLERS_PER_QUEUE)
            ]
        pollers += [ScheduledInvoker(spec, rate_seconds(expression)) for expression in spec.schedules]
    for poller in pollers:
        poller.start()
    return pollers


def local_environment(environment: dict[str, str]) -> dict[str, str]:
    """A function's environment as the local stack runs it: the built-in models from ``MODELS_DIR``."""
    if "BUILTIN_MODELS_DIR" in environment:
        return {**environment, "BUILTIN_MODELS_DIR": str(MODELS_DIR)}
    return environment


def warn_unless_built(models_dir: Path) -> None:
    """The stack serves without them, but a built-in text model is then unavailable (503 / failed)."""
    from shared.registry.builtins import BUILTIN_TEXT_MODELS

    missing = [name for name in BUILTIN_TEXT_MODELS if not (models_dir / name / "manifest.json").is_file()]
    if missing:
        log.warning("built-in models %s are not built in %s: run `make embedding-model`", missing, models_dir)


def serve_functions(
    template: Template, endpoint: str, overrides: dict[str, str]
) -> tuple[Stack, LocalRoles, LocalLambda]:
    """The template's resources in the emulator at ``endpoint``, every function's role enforced from then
    on, and the Lambda Invoke API; this process's environment is the functions' and its credentials the
    operator's."""
    point_aws_at(endpoint)
    stack = provision(template, prefix="infergate-local", overrides=overrides)
    os.environ.update(local_environment(function_environment(template, stack)))
    roles = enforce_roles(template, stack, switch_on=switch_on_server(endpoint))
    roles.create_all()  # the state file names every role, for `tools.invoke --stack`
    functions = LocalLambda(template, stack, roles).start()  # functions that invoke functions reach it with boto3
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = functions.endpoint
    return stack, roles, functions


def start(port: int, aws_port: int, admin_key: str | None) -> tuple[LocalStack, EmulatorProcess]:
    aws = EmulatorProcess("127.0.0.1", aws_port)
    aws.start()
    template = load_template()
    # `WEBHOOKS_ALLOW_INSECURE=true make dev` lets webhooks reach http and loopback receivers on this
    # machine. Off by default, as in deployments; template.yaml never sets it.
    insecure = os.environ.get("WEBHOOKS_ALLOW_INSECURE", "false")
    local_settings = {"API_BASE_URL": f"http://127.0.0.1:{port}", "WEBHOOKS_ALLOW_INSECURE": insecure}
    # The template's parameters that a developer may override for the local stack, e.g. to load-test.
    local_settings |= {name: os.environ[name] for name in LOCAL_OVERRIDES if os.environ.get(name)}
    stack, roles, functions = serve_functions(template, aws.endpoint_url, local_settings)
    warn_unless_built(MODELS_DIR)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_DEV", "false")
    from shared.wiring import reset, start_tracing

    reset()
    start_tracing()  # before the first client is made (the admin key's), as a handler does at import in Lambda
    key = seed_admin_key(admin_key)
    pollers = start_pollers(template, stack)
    local = LocalStack(f"http://127.0.0.1:{port}", aws.endpoint_url, key, stack, roles, pollers, functions)
    return local, aws


def jwt_server(port: int) -> uvicorn.Server | None:
    """The JWT callers' API (``JwtHttpApi``) when ``JWT_ISSUER`` (the ``JwtIssuer`` parameter) is set: every
    route behind the local JWT authorizer, on ``JWT_PORT`` (default: the API's port + 1)."""
    issuer = os.environ.get("JWT_ISSUER", "")
    if not issuer:
        return None
    from tools.jwt_authorizer import JwtAuthorizer, JwtGate
    from tools.local_api import serving_app

    audiences = [audience.strip() for audience in os.environ.get("JWT_AUDIENCES", "").split(",")]
    gate = JwtGate(serving_app(), JwtAuthorizer(issuer, audiences), log.warning)
    jwt_port = int(os.environ.get("JWT_PORT") or port + 1)
    return uvicorn.Server(uvicorn.Config(gate, host="127.0.0.1", port=jwt_port, log_level="warning", access_log=False))


def start_in_background(server: uvicorn.Server) -> threading.Thread:
    """Serve on a thread of its own (Ctrl-C stops the main server, which then stops this one)."""
    thread = threading.Thread(target=server.run, name="jwt-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the JWT callers' API did not start")
        time.sleep(0.02)
    return thread


def state_document(
    template: Template,
    stack: Stack,
    roles: LocalRoles,
    *,
    base_url: str,
    aws_endpoint_url: str,
    lambda_endpoint_url: str,
    jwt_base_url: str | None = None,
) -> dict[str, Any]:
    """What other tools need of a running local stack: where it answers, the operator's credentials (as a
    person holds their own for a deployed stack), its resources' names (queue URLs, table name ...) by
    logical id, and each function's role and whole environment (``tools.invoke --stack``)."""
    return {
        "base_url": base_url,
        "jwt_base_url": jwt_base_url,
        "aws_endpoint_url": aws_endpoint_url,
        "lambda_endpoint_url": lambda_endpoint_url,
        "operator": {"access_key_id": roles.operator.access_key, "secret_access_key": roles.operator.secret_key},
        "roles": dict(roles.role_arns),
        "resources": dict(stack.refs),
        "functions": {
            name: local_environment(environment) for name, environment in function_environments(template, stack).items()
        },
    }


def write_state(state: dict[str, Any], path: Path = STATE_FILE) -> None:
    path.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def banner(local: LocalStack, jwt_base_url: str | None = None) -> str:
    jwt_line = f"  JWT API    {jwt_base_url}   (issuer {os.environ.get('JWT_ISSUER')})\n" if jwt_base_url else ""
    return (
        "\nInfergate local stack is up\n"
        f"  API        {local.base_url}\n"
        f"{jwt_line}"
        f"  Swagger UI {local.base_url}/docs\n"
        f"  AWS (moto) {local.aws_endpoint_url}\n"
        f"  admin key  {local.admin_key}   (tenant '{DEV_TENANT}')\n"
        "Press Ctrl-C to stop.\n"
    )


def main() -> None:
    admin_key = os.environ.get("INFERGATE_DEV_ADMIN_KEY")
    if admin_key and not looks_like_key(admin_key):
        sys.stderr.write("INFERGATE_DEV_ADMIN_KEY must look like igk_ followed by 22-128 of [A-Za-z0-9_-]\n")
        raise SystemExit(2)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = int(os.environ.get("PORT", "8000"))
    aws_port = int(os.environ.get("MOTO_PORT") or free_port())
    local, aws = start(port, aws_port, admin_key)
    from tools.local_api import serving_app

    app = serving_app()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    jwt = jwt_server(port)
    jwt_base_url = f"http://127.0.0.1:{jwt.config.port}" if jwt else None
    if jwt:
        start_in_background(jwt)
    state = state_document(
        load_template(),
        local.stack,
        local.roles,
        base_url=local.base_url,
        aws_endpoint_url=local.aws_endpoint_url,
        lambda_endpoint_url=local.functions.endpoint,
        jwt_base_url=jwt_base_url,
    )
    write_state(state)
    sys.stdout.write(banner(local, jwt_base_url))
    sys.stdout.flush()
    try:
        server.run()  # handles SIGINT and SIGTERM, then re-raises SIGINT as KeyboardInterrupt
    except KeyboardInterrupt:
        pass  # Ctrl-C is how the stack is meant to stop
    finally:
        if jwt:
            jwt.should_exit = True
        for poller in local.pollers:
            poller.stop()
        for poller in local.pollers:
            poller.join(timeout=5)
        local.functions.stop()
        aws.stop()
        STATE_FILE.unlink(missing_ok=True)
        sys.stdout.write("Infergate local stack stopped.\n")


if __name__ == "__main__":
    main()
