"""``make invoke``: run one function on an event, like ``sam local invoke NAME -e EVENT``, without Docker.

    python -m tools.invoke GetHealthFunction --event events/get_health.json
    python -m tools.invoke create_prediction --event events/create_prediction.json --stack

A function is named by its logical id (``CreatePredictionFunction``) or its folder (``create_prediction``).

Default mode is ephemeral: an in-process moto (``mock_aws``) holding the tables, queues and secrets of
``template.yaml``, gone when the command ends; the function gets its own environment from the template.
As a convenience of this mode only, the bearer key of the event's ``Authorization`` header (if any) is
registered first as an admin key of tenant ``example``, so the sample events in ``events/`` authenticate.
Nothing else is seeded: an event naming a prediction or key that does not exist gets a 404.

``--stack`` invokes against the local stack that ``make dev`` is running instead: its moto server, and
the function's own environment there (every variable the template gives it, resolved against that
stack's resources), read from ``.infergate-dev.json``. Nothing is seeded there; start the stack with
``INFERGATE_DEV_ADMIN_KEY=igk_exampleadminkey00000000000000000000 make dev`` and the sample events'
key is an admin key of its tenant ``local``.

stdout gets the result as pretty JSON: ``function``, then for HTTP responses ``statusCode`` and ``body``
(decoded: JSON when it is JSON, else text, null when empty), then ``response``, exactly what the handler
returned. The function's logs and metrics go to stderr, as with ``sam local invoke``.

Exit status: 0 the function returned; 1 it raised (Lambda's error document on stdout); 2 it was not
invoked (unknown function, unreadable event file, no local stack), with a one-line reason on stderr.
"""

import argparse
import base64
import binascii
import json
import logging
import os
import socket
import sys
import traceback
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from moto import mock_aws

from shared.wiring import reset
from tools.devstack import REGION, STATE_FILE, local_environment, point_aws_at
from tools.enforcement import enforcing_in_process
from tools.lambda_runtime import invoke
from tools.local_lambda import LocalLambda
from tools.local_roles import assume
from tools.provision import provision
from tools.template import FunctionSpec, Template, load_template

EXIT_OK = 0
EXIT_FUNCTION_ERROR = 1
EXIT_NOT_INVOKED = 2
EXAMPLE_TENANT = "example"
EPHEMERAL_PREFIX = "infergate"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


class NotInvokedError(Exception):
    """Why the function could not be invoked; ``str()`` is the one-line message for the user."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        template = load_template()
        spec = find_function(template, args.function)
        event = read_event(Path(args.event))
        with _scoped_environment():
            if args.stack:
                use_running_stack(args.state_file, spec)
                return _invoke_and_report(spec, event)
            with ephemeral_aws(template, spec):
                return _invoke_and_report(spec, event, seed_key=True)
    except NotInvokedError as exc:
        sys.stderr.write(f"invoke: {exc}\n")
        return EXIT_NOT_INVOKED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.invoke", description="Run one template function on an event, without Docker."
    )
    parser.add_argument("function", help="logical id (GetHealthFunction) or function folder (get_health)")
    parser.add_argument("--event", "-e", required=True, help="JSON event file, e.g. events/get_health.json")
    parser.add_argument(
        "--stack", action="store_true", help="invoke against the running local stack (make dev); seed nothing"
    )
    parser.add_argument(
        "--state-file", type=Path, default=STATE_FILE, help=f"the local stack's state file (default {STATE_FILE.name})"
    )
    return parser


def find_function(template: Template, name: str) -> FunctionSpec:
    for spec in template.functions:
        if name in (spec.logical_id, spec.folder):
            return spec
    known = ", ".join(spec.logical_id for spec in template.functions)
    raise NotInvokedError(f"unknown function '{name}'; template.yaml has: {known}")


def read_event(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotInvokedError(f"event file {path} not found") from None
    except OSError as exc:
        raise NotInvokedError(f"event file {path} cannot be read ({exc.strerror})") from None
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise NotInvokedError(f"event file {path} is not valid JSON ({exc})") from None
    if not isinstance(event, dict):
        raise NotInvokedError(f"event file {path} must hold a JSON object")
    return event


@contextmanager
def _scoped_environment() -> Iterator[None]:
    """Whatever the invocation sets in ``os.environ`` and the cached settings, clients and services is undone."""
    saved = dict(os.environ)
    try:
        reset()
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset()


@contextmanager
def ephemeral_aws(template: Template, spec: FunctionSpec) -> Iterator[None]:
    """moto in this process with the template's resources; the function's environment resolved against them."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_PROFILE"):  # never a real endpoint or account
        os.environ.pop(name, None)
    os.environ.update(FAKE_CREDENTIALS)
    with mock_aws():
        stack = provision(template, prefix=EPHEMERAL_PREFIX)
        os.environ.update(local_environment(stack.environment(spec.environment)))  # built-in models: local build
        with enforcing_in_process(template, stack) as roles:  # the function runs as its own role
            functions = LocalLambda(template, stack, roles).start()  # for functions that invoke functions
            os.environ["AWS_ENDPOINT_URL_LAMBDA"] = functions.endpoint
            reset()
            try:
                yield
            finally:
                functions.stop()


def use_running_stack(state_file: Path, spec: FunctionSpec) -> None:
    """Point this process at the moto server of ``make dev`` and take the function's environment there."""
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        endpoint = str(state["aws_endpoint_url"])
        lambda_endpoint = str(state["lambda_endpoint_url"])
        functions = state["functions"]
        operator, role_arn = state["operator"], state["roles"][spec.logical_id]
    except FileNotFoundError:
        raise NotInvokedError(f"{state_file} not found: start the local stack with `make dev` first") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise NotInvokedError(f"{state_file} is not a local stack state file; restart `make dev`") from None
    _require_listening(endpoint, state_file)
    environment = functions.get(spec.logical_id) if isinstance(functions, dict) else None
    missing = sorted(set(spec.environment) - set(environment or {}))
    if not isinstance(environment, dict) or missing:
        raise NotInvokedError(
            f"{state_file} lacks the environment of {spec.logical_id} ({', '.join(missing)}); restart `make dev`"
        )
    point_aws_at(endpoint, operator)
    # As in Lambda, the function's credentials are its own role's, assumed for it, in its environment.
    role = assume(boto3.client("sts"), role_arn, spec.logical_id)
    os.environ.update(role.environment())
    os.environ.update({str(name): str(value) for name, value in environment.items()})
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = lambda_endpoint  # functions that invoke functions reach the stack's
    reset()


def _require_listening(endpoint: str, state_file: Path) -> None:
    parts = urlsplit(endpoint)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=2):
            pass
    except OSError:
        raise NotInvokedError(
            f"nothing answers at {endpoint}: is `make dev` running? ({state_file} may be left over)"
        ) from None


def seed_bearer_key(event: dict[str, Any]) -> None:
    """Register the event's bearer key as an admin key of tenant ``example`` (ephemeral mode only)."""
    from shared.keys.models import Scope, looks_like_key
    from shared.wiring import key_service

    secret = bearer_secret(event)
    if secret is None:
        return
    if not looks_like_key(secret):
        sys.stderr.write("invoke: the event's bearer token is not an Infergate key; nothing seeded\n")
        return
    key_service().import_secret(EXAMPLE_TENANT, "example admin", [Scope.ADMIN], secret)
    sys.stderr.write(f"invoke: seeded the event's bearer key as an admin key of tenant '{EXAMPLE_TENANT}'\n")


def bearer_secret(event: dict[str, Any]) -> str | None:
    headers = event.get("headers")
    if not isinstance(headers, dict):
        return None
    for name, value in headers.items():
        if str(name).lower() == "authorization" and isinstance(value, str):
            scheme, _, credentials = value.strip().partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
    return None


def _invoke_and_report(spec: FunctionSpec, event: dict[str, Any], *, seed_key: bool = False) -> int:
    with _function_output_to_stderr():
        if seed_key:
            seed_bearer_key(event)
        try:
            result = invoke(spec, event)
        except Exception as exc:  # noqa: BLE001 - reported the way Lambda reports a function error
            status, document = EXIT_FUNCTION_ERROR, lambda_error(exc)
        else:
            status, document = EXIT_OK, render(spec, result)
    try:
        output = json.dumps(document, indent=2, ensure_ascii=False)
    except (TypeError, ValueError) as exc:  # Lambda cannot serialise such a result either
        status, output = EXIT_FUNCTION_ERROR, json.dumps(lambda_error(exc, "Runtime.MarshalError"), indent=2)
    sys.stdout.write(output + "\n")
    sys.stdout.flush()
    return status


def lambda_error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    """The error document Lambda returns for a function that raised."""
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


@contextmanager
def _function_output_to_stderr() -> Iterator[None]:
    """Logs (Powertools' handler, bound to stdout when created) and EMF metrics (print) go to stderr."""
    from shared.kernel.observability import SERVICE_NAME

    handlers = [h for h in logging.getLogger(SERVICE_NAME).handlers if isinstance(h, logging.StreamHandler)]
    previous = [(handler, handler.setStream(sys.stderr)) for handler in handlers]
    try:
        with redirect_stdout(sys.stderr), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
            yield
    finally:
        for handler, stream in previous:
            if stream is not None:
                handler.setStream(stream)


def render(spec: FunctionSpec, result: Any) -> dict[str, Any]:
    rendered: dict[str, Any] = {"function": spec.logical_id}
    if isinstance(result, dict) and "statusCode" in result:
        rendered["statusCode"] = result["statusCode"]
        rendered["body"] = decoded_body(result)
    rendered["response"] = result
    return rendered


def decoded_body(response: dict[str, Any]) -> Any:
    """The body as JSON when it parses as JSON, else as text; None when empty; base64 left as is if binary."""
    body = response.get("body")
    if not isinstance(body, str) or not body:
        return None
    if response.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return body
    try:
        return json.loads(body)
    except ValueError:
        return body


if __name__ == "__main__":
    sys.exit(main())
