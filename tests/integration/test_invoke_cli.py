"""``python -m tools.invoke``: the Docker-free ``sam local invoke``, in its ephemeral and ``--stack`` modes."""

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from shared import __version__
from shared.adapters.dynamodb.keys import DynamoKeyStore
from shared.kernel.clock import to_rfc3339, utc_now
from shared.keys.models import ApiKey, Scope, hash_secret
from shared.uploads.models import Purpose
from tests.support.example_batch import Places, store_example_batch, store_upload
from tools.aws_identity import stop_routing
from tools.devstack import DEV_TENANT, free_port, serve_functions, state_document, write_state
from tools.emulator import EmulatorProcess
from tools.invoke import main
from tools.template import ROOT, FunctionSpec, load_template

EXAMPLE_KEY = "igk_exampleadminkey00000000000000000000"
SAMPLE_TENANT = "example"  # the tenant the sample events' messages and object keys name
SAMPLE_UPLOAD_ID = "upl_01JD5YB4W3ZV0B4S8FZ7Q6N9XQ"  # the upload events/inspect_model_artifact.json names
HEALTH = {"status": "ok", "version": __version__}


@dataclass(frozen=True)
class Outcome:
    status: int
    stdout: str
    stderr: str

    @property
    def result(self) -> Any:
        return json.loads(self.stdout)


Run = Callable[..., Outcome]


@pytest.fixture
def run(aws_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Call ``tools.invoke.main`` in this process from the repository root, as ``make invoke`` does."""
    monkeypatch.chdir(ROOT)

    def call(*argv: str) -> Outcome:
        status = main(list(argv))
        captured = capsys.readouterr()
        return Outcome(status, captured.out, captured.err)

    return call


@dataclass(frozen=True)
class RunningStack:
    state_file: Path
    table_name: str
    bucket_name: str
    endpoint: str
    operator: dict[str, str]  # the credentials `make dev` gives its own tools

    def client(self, service: str) -> Any:
        """A client of its emulator, as its operator."""
        return boto3.client(
            service,  # type: ignore[call-overload]  # dynamodb or s3
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.operator["access_key_id"],
            aws_secret_access_key=self.operator["secret_access_key"],
        )

    @property
    def places(self) -> Places:
        """Its table and bucket with clients of its emulator, for the shared seeding helpers."""
        return self.table_name, self.bucket_name, self.client("dynamodb"), self.client("s3")


@contextmanager
def local_stack_state(folder: Path) -> Iterator[RunningStack]:
    """What ``make dev`` leaves for other tools: the emulator holding the template's resources with every
    function's role enforced, the Lambda Invoke API of its functions, and its state file (all written by the
    local stack's own code)."""
    aws = EmulatorProcess("127.0.0.1", free_port())
    aws.start()
    saved = dict(os.environ)
    try:
        template = load_template()
        created, roles, functions = serve_functions(template, aws.endpoint_url, {})
        state_file = folder / ".infergate-dev.json"
        state = state_document(
            template,
            created,
            roles,
            base_url="http://127.0.0.1:8000",
            aws_endpoint_url=aws.endpoint_url,
            lambda_endpoint_url=functions.endpoint,
        )
        write_state(state, state_file)
        try:
            yield RunningStack(
                state_file, created.refs["Table"], created.refs["ArtifactsBucket"], aws.endpoint_url, state["operator"]
            )
        finally:
            functions.stop()
            stop_routing()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        aws.stop()


@pytest.fixture
def running_stack(aws_env: None, tmp_path: Path) -> Iterator[RunningStack]:
    with local_stack_state(tmp_path) as stack:
        yield stack


@pytest.fixture(scope="module")
def sample_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """One local stack for every function's sample event, which knows the sample events' key (admin, ``local``)."""
    with local_stack_state(tmp_path_factory.mktemp("stack")) as stack:
        register_key(stack, DEV_TENANT, EXAMPLE_KEY)
        yield stack


def register_key(stack: RunningStack, tenant: str, secret: str) -> None:
    store = DynamoKeyStore(stack.table_name, stack.client("dynamodb"))
    key = ApiKey(
        id="key_01JD5YB4W3ZV0B4S8FZ7Q6N9XA",
        tenant=tenant,
        name="local admin",
        scopes=frozenset({Scope.ADMIN}),
        created_at=to_rfc3339(utc_now()),
        last4=secret[-4:],
    )
    store.create(key, hash_secret(secret))


# ---------------------------------------------------------------- ephemeral mode (the default)


def test_prints_the_http_response_with_its_body_decoded_and_the_raw_response(run: Run) -> None:
    # Given the health sample event
    # When the health function is invoked on it by logical id
    outcome = run("GetHealthFunction", "--event", "events/get_health.json")

    # Then it exits 0 and prints the status, the decoded body and the response exactly as returned
    assert outcome.status == 0
    result = outcome.result
    assert (result["function"], result["statusCode"], result["body"]) == ("GetHealthFunction", 200, HEALTH)
    assert result["response"]["statusCode"] == 200
    assert json.loads(result["response"]["body"]) == HEALTH


def test_accepts_the_function_folder_and_seeds_the_events_bearer_key(run: Run) -> None:
    # Given the create_prediction sample event, whose bearer key exists nowhere yet
    # When the function is named by its folder
    outcome = run("create_prediction", "--event", "events/create_prediction.json")

    # Then the key was registered for tenant "example" and the prediction was created
    assert outcome.status == 0
    body = outcome.result["body"]
    assert (outcome.result["statusCode"], body["model"], body["status"]) == (201, "sentiment", "starting")
    assert "seeded the event's bearer key as an admin key of tenant 'example'" in outcome.stderr


def test_function_logs_go_to_stderr_and_stdout_holds_only_the_result(run: Run) -> None:
    # Given an event whose handling logs (a queued prediction)
    # When it is invoked
    outcome = run("CreatePredictionFunction", "--event", "events/create_prediction.json")

    # Then stdout is one JSON document and the structured log line is on stderr
    assert outcome.status == 0
    assert outcome.result["statusCode"] == 201
    documents = [json.loads(line) for line in outcome.stderr.splitlines() if line.startswith("{")]
    log_lines = [document for document in documents if "message" in document]  # not EMF metrics
    assert [(line["message"], line["function_name"]) for line in log_lines] == [
        ("prediction queued", "CreatePredictionFunction")
    ]


def test_seeds_nothing_but_the_key_so_an_unknown_prediction_is_not_found(run: Run) -> None:
    # Given the get_prediction sample event, in a fresh ephemeral AWS
    # When it is invoked
    outcome = run("GetPredictionFunction", "--event", "events/get_prediction.json")

    # Then the caller is authenticated but the prediction does not exist
    assert outcome.status == 0
    assert outcome.result["statusCode"] == 404
    assert outcome.result["body"]["type"] == "urn:infergate:problem:not-found"


def test_prints_a_queue_functions_result_as_returned(run: Run) -> None:
    # Given the run_predictions SQS sample event
    # When it is invoked
    outcome = run("RunPredictionsFunction", "--event", "events/run_predictions.json")

    # Then the partial batch response is printed, with no HTTP fields
    assert outcome.status == 0
    assert outcome.result == {"function": "RunPredictionsFunction", "response": {"batchItemFailures": []}}


def test_leaves_the_environment_as_it_found_it(run: Run) -> None:
    # Given this process's environment
    before = dict(os.environ)

    # When a function is invoked in-process
    outcome = run("ListModelsFunction", "--event", "events/list_models.json")

    # Then the function's variables and fake AWS settings are gone again
    assert outcome.status == 0
    assert dict(os.environ) == before


def test_a_function_that_raises_exits_1_with_lambdas_error_document(run: Run, tmp_path: Path) -> None:
    # Given an event no HTTP adapter can interpret
    event = tmp_path / "empty.json"
    event.write_text("{}", encoding="utf-8")

    # When an HTTP function is invoked on it
    outcome = run("GetHealthFunction", "--event", str(event))

    # Then the error is reported the way Lambda reports it
    assert outcome.status == 1
    assert set(outcome.result) == {"errorMessage", "errorType", "stackTrace"}
    assert outcome.result["errorType"] == "RuntimeError"


def test_runs_as_a_module_in_a_subprocess() -> None:
    # Given a clean environment with fake credentials and no AWS endpoint
    env = {k: v for k, v in os.environ.items() if k not in {"AWS_ENDPOINT_URL", "AWS_PROFILE"}}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"})

    # When `python -m tools.invoke` runs from the repository root
    completed = subprocess.run(
        [sys.executable, "-m", "tools.invoke", "GetHealthFunction", "--event", "events/get_health.json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # Then it exits 0 with the result alone on stdout
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert (result["statusCode"], result["body"]) == (200, HEALTH)


# ---------------------------------------------------------------- not invoked: exit 2, one line on stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("NopeFunction", "--event", "events/get_health.json"),
            "invoke: unknown function 'NopeFunction'; template.yaml has: GetHealthFunction, ",
        ),
        (("GetHealthFunction", "--event", "events/missing.json"), "invoke: event file events/missing.json not found"),
        (
            ("GetHealthFunction", "--event", "events/get_health.json", "--stack", "--state-file", "no-such-state.json"),
            "invoke: no-such-state.json not found: start the local stack with `make dev` first",
        ),
    ],
    ids=["unknown-function", "missing-event", "no-local-stack"],
)
def test_a_bad_argument_exits_2_with_a_one_line_reason(run: Run, argv: tuple[str, ...], message: str) -> None:
    # Given arguments that name nothing invocable
    # When the command runs
    outcome = run(*argv)

    # Then nothing is printed on stdout and stderr says why, in one line
    assert outcome.status == 2
    assert outcome.stdout == ""
    assert outcome.stderr.startswith(message)
    assert outcome.stderr.count("\n") == 1


def test_an_event_file_that_is_not_json_exits_2(run: Run, tmp_path: Path) -> None:
    # Given an event file that is not JSON
    event = tmp_path / "broken.json"
    event.write_text('{"version": "2.0",', encoding="utf-8")

    # When a function is invoked on it
    outcome = run("GetHealthFunction", "--event", str(event))

    # Then it is refused before any invocation
    assert outcome.status == 2
    assert outcome.stdout == ""
    assert outcome.stderr.startswith(f"invoke: event file {event} is not valid JSON")


def test_a_left_over_state_file_exits_2(run: Run, tmp_path: Path) -> None:
    # Given a state file of a local stack that is no longer running
    endpoint = f"http://127.0.0.1:{free_port()}"
    state_file = tmp_path / ".infergate-dev.json"
    state = {
        "aws_endpoint_url": endpoint,
        "lambda_endpoint_url": endpoint,
        "functions": {},
        "operator": {"access_key_id": "AKIA0", "secret_access_key": "gone"},
        "roles": {"GetHealthFunction": "arn:aws:iam::123456789012:role/gone"},
    }
    state_file.write_text(json.dumps(state), encoding="utf-8")

    # When a function is invoked against it
    outcome = run("GetHealthFunction", "--event", "events/get_health.json", "--stack", "--state-file", str(state_file))

    # Then it says nothing answers there
    assert outcome.status == 2
    assert outcome.stdout == ""
    assert outcome.stderr.startswith(f"invoke: nothing answers at {endpoint}: is `make dev` running?")


# ---------------------------------------------------------------- --stack: the running local stack


def test_stack_mode_invokes_against_the_running_stacks_resources(run: Run, running_stack: RunningStack) -> None:
    # Given the local stack holds the example key as an admin key of its tenant
    register_key(running_stack, DEV_TENANT, EXAMPLE_KEY)

    # When list_keys is invoked against it
    outcome = run(
        "list_keys", "--event", "events/list_keys.json", "--stack", "--state-file", str(running_stack.state_file)
    )

    # Then the function read that stack's table
    assert outcome.status == 0
    assert outcome.result["statusCode"] == 200
    assert [(key["name"], key["last4"]) for key in outcome.result["body"]["results"]] == [("local admin", "0000")]


def test_stack_mode_seeds_nothing(run: Run, running_stack: RunningStack) -> None:
    # Given the local stack does not know the event's bearer key
    # When list_keys is invoked against it
    outcome = run(
        "list_keys", "--event", "events/list_keys.json", "--stack", "--state-file", str(running_stack.state_file)
    )

    # Then the caller is not authenticated
    assert outcome.status == 0
    assert outcome.result["statusCode"] == 401
    assert outcome.result["body"]["type"] == "urn:infergate:problem:unauthenticated"
    assert "seeded" not in outcome.stderr


def _iris_upload(places: Places) -> None:
    iris = (ROOT / "shared" / "runtimes" / "bundled" / "iris.onnx").read_bytes()
    store_upload(SAMPLE_TENANT, SAMPLE_UPLOAD_ID, Purpose.MODEL_ARTIFACT, "application/octet-stream", iris, places)


# What a sample event names must exist for its function to get past looking it up (HTTP functions
# answer 404 without it, which is enough here).
SAMPLE_DATA: dict[str, Callable[[Places], None]] = {
    "InspectModelArtifactFunction": _iris_upload,
    "ProcessBatchesFunction": lambda places: store_example_batch(SAMPLE_TENANT, *places),
}


@pytest.mark.parametrize("spec", load_template().functions, ids=lambda spec: spec.logical_id)
def test_stack_mode_invokes_every_function_on_its_sample_event(
    run: Run, sample_stack: RunningStack, spec: FunctionSpec
) -> None:
    # Given the local stack knows the sample events' key (an admin key of its tenant) and what the event names
    if spec.logical_id in SAMPLE_DATA:
        SAMPLE_DATA[spec.logical_id](sample_stack.places)

    # When the function is invoked against it on its sample event
    outcome = run(
        spec.logical_id,
        "--event",
        f"events/{spec.folder}.json",
        "--stack",
        "--state-file",
        str(sample_stack.state_file),
    )

    # Then it ran with its whole environment: no error, no server error, no failed record
    assert outcome.status == 0, outcome.stderr[-2000:]
    result = outcome.result
    if spec.is_api:
        assert result["statusCode"] < 500, result["body"]
        assert result["statusCode"] != 401, "the sample event's key should authenticate"
    if spec.queue_triggers:
        assert result["response"] == {"batchItemFailures": []}, outcome.stderr[-2000:]
