"""Cold start of every function against the floor and the Lambdalith, on a local moto server.

    .venv/bin/python -m bench.cold_start [--runs 10] [--only CreatePredictionFunction ...]

Each sample is a fresh interpreter that imports the function's module, initialises it and serves the
function's committed event from ``events/`` (the example admin key is seeded, nothing else: a GET of
the example prediction may answer 404, which is still a full request with its AWS calls). Timed inside
the interpreter from its first line to the response (interpreter start-up itself is the same for every
variant and is left out); the median of ``--runs``. Also the median peak RSS of those interpreters after
the first event: what the function needs of its memory size.

References, in the same run:
- floor: a bare handler doing the same first AWS call (a DynamoDB ``GetItem`` with boto3) and building
  its answer with pydantic — the least any of our functions could do;
- Lambdalith: ``bench/lambdalith.py`` (one FastAPI + Mangum function with every route and the model
  runtimes), serving the ``POST /v1/predictions`` event.
"""

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from bench.lambdalith import API_MODULES
from tools import moto_iam
from tools.devstack import free_port
from tools.enforcement import switch_on_server
from tools.local_roles import LocalRoles, create_operator
from tools.provision import Stack, function_environment, provision
from tools.template import ROOT, FunctionSpec, Template, load_template

EXAMPLE_KEY = "igk_exampleadminkey00000000000000000000"

DRIVER = r"""
import time
began = time.perf_counter()
import importlib, json, sys
config = json.loads(sys.argv[1])
sys.path[0:0] = config.get("paths", [])  # a built package's: Lambda's /var/task, /opt/python...
module = importlib.import_module(config["module"])
handler = getattr(module, config["handler"])
imported = time.perf_counter()

class Context:
    function_name = config["name"]
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:" + config["name"]
    memory_limit_in_mb = 512
    aws_request_id = "cold-start"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 10000

with open(config["event"], encoding="utf-8") as file:
    event = json.load(file)
try:
    handler(event, Context())
    raised = False
except Exception:  # what Lambda returns as the invocation's error: the request was still served
    raised = True
served = time.perf_counter()
with open("/proc/self/status", encoding="utf-8") as status:  # VmHWM: this process's peak RSS, in kB
    peak_mib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
timing = {"import": imported - began, "total": served - began, "raised": raised, "rss": peak_mib}
sys.stderr.write(json.dumps(timing) + "\n")
"""

FLOOR = r"""
import os
import boto3
from pydantic import BaseModel

class Answer(BaseModel):
    found: bool

client = boto3.client("dynamodb")

def handler(event, context):
    item = client.get_item(TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": "TENANT#example"}, "SK": {"S": "X"}})
    return {"statusCode": 200, "body": Answer(found="Item" in item).model_dump_json()}
"""


def sample(
    config: dict[str, Any],
    env: dict[str, str],
    runs: int,
    interpreter: Sequence[str] = (sys.executable,),
    cwd: Path = ROOT,
) -> tuple[float, float, float]:
    """Median (import seconds, total seconds, peak RSS MiB) over ``runs`` fresh interpreters (``interpreter``
    and its options, run in ``cwd``; ``config["paths"]``, if any, go first on ``sys.path``)."""
    imports, totals, peaks = [], [], []
    for _ in range(runs):
        done = subprocess.run(
            [*interpreter, "-c", DRIVER, json.dumps(config)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        lines = [line for line in done.stderr.splitlines() if line.startswith('{"import"')]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"{config['name']} failed:\n{done.stderr[-3000:]}")
        timing: dict[str, float] = json.loads(lines[-1])
        if timing["raised"]:
            sys.stderr.write(f"{config['name']}: the handler raised (its sample event needs data not seeded)\n")
        imports.append(timing["import"])
        totals.append(timing["total"])
        peaks.append(timing["rss"])
    return statistics.median(imports), statistics.median(totals), statistics.median(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", nargs="*", default=None, help="logical ids of the functions to measure")
    parser.add_argument("--json", type=Path, help="also write the key figures to this file (for `python -m bench`)")
    args = parser.parse_args()
    rows = run(args.runs, args.only)
    print_table(rows)
    if args.json:
        (_, _, floor_s, _), (_, _, lambdalith_s, _), *functions = rows
        figures = {
            "floor": floor_s,
            "lambdalith": lambdalith_s,
            "functions": {name: total for name, _, total, _ in functions},
            "peak_rss_mib": {name: rss for name, _, _, rss in functions},
        }
        args.json.write_text(json.dumps(figures), encoding="utf-8")


FAKE_AWS = {  # the credentials and region every fresh interpreter of a bench gets
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def start_moto_server() -> tuple[ThreadedMotoServer, str]:
    """A started moto server on a free port, its request log quiet, and its endpoint; the caller stops it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def enforce_on_server(template: Template, stack: Stack, endpoint: str, iam: Any) -> LocalRoles:
    """From now on the moto server (in this process) refuses what AWS would: each function signs as its own
    role, as in the tests and in Lambda. ``iam``: a client that may still create the operator."""
    moto_iam.install()
    operator = create_operator(iam, f"{stack.prefix}-operator")
    switch_on_server(endpoint)()
    as_operator = boto3.Session(
        aws_access_key_id=operator.access_key, aws_secret_access_key=operator.secret_key, region_name="us-east-1"
    )
    iam, sts = as_operator.client("iam", endpoint_url=endpoint), as_operator.client("sts", endpoint_url=endpoint)
    return LocalRoles(template, stack, operator, iam, sts)


def run(runs: int, only: list[str] | None) -> list[tuple[str, float, float, float]]:
    """(name, median import s, median import + first event s, median peak RSS MiB): the floor, the
    Lambdalith, then each function."""
    template = load_template()
    api_modules = tuple(spec.module for spec in template.functions if spec.routes)
    assert api_modules == API_MODULES, "bench/lambdalith.py's API_MODULES is out of date with template.yaml"

    with local_stack(template) as (env, roles):
        return measure(template.functions, env, runs, only, roles)


@contextmanager
def local_stack(template: Template) -> Iterator[tuple[dict[str, str], LocalRoles]]:
    """A moto server provisioned from the template, the example admin key seeded, IAM enforced; yields the
    environment every function gets (its template environment, fake credentials, the endpoint) and the
    roles to run each function as."""
    server, endpoint = start_moto_server()
    fake = FAKE_AWS
    try:
        connection = {"endpoint_url": endpoint, **_lower(fake)}
        dynamodb = boto3.client("dynamodb", **connection)
        stack = provision(
            template,
            prefix="cold",
            dynamodb=dynamodb,
            s3=boto3.client("s3", **connection),
            sqs=boto3.client("sqs", **connection),
            secretsmanager=boto3.client("secretsmanager", **connection),
        )
        _seed_key(stack.refs["Table"], dynamodb)
        iris = (ROOT / "shared" / "runtimes" / "bundled" / "iris.onnx").read_bytes()  # the inspector's upload
        boto3.client("s3", **connection).put_object(
            Bucket=stack.refs["ArtifactsBucket"], Key="uploads/example/upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XQ", Body=iris
        )
        roles = enforce_on_server(template, stack, endpoint, boto3.client("iam", **connection))
        with tempfile.TemporaryDirectory() as models:
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))},
                **fake,
                **function_environment(template, stack),
                "AWS_ENDPOINT_URL": endpoint,
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
                "MODEL_DIR": models,
                "PYTHONDONTWRITEBYTECODE": "",
            }
            yield env, roles
    finally:
        server.stop()


def measure(
    functions: list[FunctionSpec], env: dict[str, str], runs: int, only: list[str] | None, roles: LocalRoles
) -> list[tuple[str, float, float, float]]:
    """The floor and the Lambdalith, which no template role fits, run as the operator; each function as
    its own role."""
    events = ROOT / "events"
    rows: list[tuple[str, float, float, float]] = []
    env = {**env, **roles.operator.environment()}
    with tempfile.TemporaryDirectory() as folder:
        floor_module = Path(folder) / "floor_handler.py"
        floor_module.write_text(FLOOR, encoding="utf-8")
        floor_env = {**env, "PYTHONPATH": folder}
        floor = {
            "module": "floor_handler",
            "handler": "handler",
            "name": "Floor",
            "event": str(events / "get_health.json"),
        }
        rows.append(("floor (boto3 GetItem + pydantic)", *sample(floor, floor_env, runs)))
        lambdalith = {
            "module": "bench.lambdalith",
            "handler": "handler",
            "name": "Lambdalith",
            "event": str(events / "create_prediction.json"),
        }
        rows.append(("Lambdalith (POST /v1/predictions)", *sample(lambdalith, env, runs)))
        for spec in functions:
            if only and spec.logical_id not in only:
                continue
            config = {
                "module": spec.module,
                "handler": spec.handler_name,
                "name": spec.logical_id,
                "event": str(events / f"{spec.folder}.json"),
            }
            own_role = {**env, **roles.credentials(spec.logical_id).environment()}
            rows.append((spec.logical_id, *sample(config, own_role, runs)))
            sys.stderr.write(f"{spec.logical_id}: {rows[-1][2] * 1000:.0f} ms\n")
    return rows


def print_table(rows: list[tuple[str, float, float, float]]) -> None:
    floor, lambdalith = rows[0][2], rows[1][2]
    print("\n| function | import ms | import + first event ms | x floor | x Lambdalith | peak RSS MiB |")  # noqa: T201
    print("|---|---:|---:|---:|---:|---:|")  # noqa: T201
    for name, imported, total, rss in rows:
        print(  # noqa: T201
            f"| {name} | {imported * 1000:.0f} | {total * 1000:.0f} | {total / floor:.2f} | {total / lambdalith:.2f} "
            f"| {rss:.0f} |"
        )


def _lower(fake: dict[str, str]) -> dict[str, Any]:
    return {
        "aws_access_key_id": fake["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": fake["AWS_SECRET_ACCESS_KEY"],
        "region_name": fake["AWS_DEFAULT_REGION"],
    }


def _seed_key(table: str, dynamodb: Any) -> None:
    from shared.adapters.dynamodb.keys import DynamoKeyStore
    from shared.kernel.pagination import CursorCodec
    from shared.keys.models import Scope
    from shared.keys.service import KeyService

    KeyService(DynamoKeyStore(table, dynamodb), CursorCodec(lambda: b"unused")).import_secret(
        "example", "example admin", [Scope.ADMIN], EXAMPLE_KEY
    )


if __name__ == "__main__":
    main()
