"""The ``infergate`` command line, driven through ``main`` with the client over an ``httpx.MockTransport``."""

import io
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from infergate import Infergate
from infergate.cli import main
from infergate.cli.exit_codes import ExitCode
from infergate.cli.inputs import InputError, build_input, parse_pair
from infergate.cli.progress import BatchProgress


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("x=3", ("x", 3)),
        ("ratio=0.5", ("ratio", 0.5)),
        ("on=true", ("on", True)),
        ("none=null", ("none", None)),
        ('tags=["a","b"]', ("tags", ["a", "b"])),
        ('obj={"k": 1}', ("obj", {"k": 1})),
        ("text=hello", ("text", "hello")),
        ("text=hello world", ("text", "hello world")),
        ("url=http://x/?a=b", ("url", "http://x/?a=b")),
        ("empty=", ("empty", "")),
        ("zip==02134", ("zip", "02134")),
        ("answer==true", ("answer", "true")),
        ("n==3", ("n", "3")),
        ("eq===x", ("eq", "=x")),
    ],
)
def test_a_pair_is_json_when_it_parses_and_a_string_otherwise_or_when_forced(
    pair: str, expected: tuple[str, Any]
) -> None:
    assert parse_pair(pair) == expected


@pytest.mark.parametrize("pair", ["novalue", "=3", ""])
def test_a_pair_without_a_key_or_an_equals_sign_is_refused(pair: str) -> None:
    with pytest.raises(InputError):
        parse_pair(pair)


def test_pairs_are_set_on_the_input_object_and_win_over_its_fields() -> None:
    stdin = io.StringIO('{"text": "from stdin", "n": 1}')
    assert build_input(["n=2", "extra==x"], "-", stdin) == {"text": "from stdin", "n": 2, "extra": "x"}
    with pytest.raises(InputError, match="JSON object"):
        build_input([], "[1, 2]")
    with pytest.raises(InputError, match="no input"):
        build_input([], None)


@pytest.mark.parametrize("pair", ["x=NaN", "x=Infinity", "x=-Infinity", "x=1e999", "x=[1, NaN]", 'x={"a": Infinity}'])
def test_a_pair_holding_a_number_json_cannot_carry_is_refused_naming_it(pair: str) -> None:
    with pytest.raises(InputError, match=re.escape(repr(pair))):
        parse_pair(pair)


def test_an_input_file_that_is_not_utf8_or_holds_nan_is_refused(tmp_path: Path) -> None:
    latin1, nan = tmp_path / "latin1.json", tmp_path / "nan.json"
    latin1.write_bytes(b'{"t": "caf\xe9"}')
    nan.write_text('{"x": NaN}')
    with pytest.raises(InputError, match="not UTF-8"):
        build_input([], f"@{latin1}")
    with pytest.raises(InputError, match="NaN"):
        build_input([], f"@{nan}")
    # Bytes that were not UTF-8 in an argument or on stdin come to Python as lone surrogates.
    with pytest.raises(InputError, match="not UTF-8"):
        build_input(["t=caf\udce9"], None)
    with pytest.raises(InputError, match="not UTF-8"):
        build_input([], "-", io.StringIO('{"t": "caf\udce9"}'))


def _batch(status: str, total: int, completed: int, failed: int) -> dict[str, Any]:
    counts = {"total": total, "completed": completed, "failed": failed}
    return {"id": "bat_1", "status": status, "request_counts": counts}


def test_progress_off_a_terminal_is_a_plain_line_per_status_and_at_most_one_per_interval() -> None:
    stream, now = io.StringIO(), [0.0]
    progress = BatchProgress(stream, tty=False, interval=10.0, clock=lambda: now[0])
    for at, batch in [
        (0.0, _batch("validating", 0, 0, 0)),
        (1.0, _batch("in_progress", 10, 0, 0)),
        (2.0, _batch("in_progress", 10, 3, 0)),  # counts moved, but within the interval: not shown
        (12.0, _batch("in_progress", 10, 6, 1)),
        (13.0, _batch("completed", 10, 8, 2)),
    ]:
        now[0] = at
        progress(batch)
    progress.finish()
    assert stream.getvalue().splitlines() == [
        "batch bat_1: validating, 0/0 lines done",
        "batch bat_1: in_progress, 0/10 lines done",
        "batch bat_1: in_progress, 7/10 lines done (1 failed)",
        "batch bat_1: completed, 10/10 lines done (2 failed)",
    ]
    assert "\r" not in stream.getvalue()


def test_progress_on_a_terminal_redraws_one_bar_and_ends_its_line() -> None:
    stream = io.StringIO()
    progress = BatchProgress(stream, tty=True)
    progress(_batch("in_progress", 4, 1, 0))
    progress(_batch("completed", 4, 3, 1))
    progress.finish()
    frames = stream.getvalue().split("\r")[1:]
    assert frames[0].startswith("[" + "#" * 7 + "-" * 23 + "] 1/4 lines in_progress")
    assert frames[1].startswith("[" + "#" * 30 + "] 4/4 lines completed (1 failed)")
    assert stream.getvalue().endswith("\n")


# --- main() over a fake API -----------------------------------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]
BASE = "http://api.test"
CREATED = "2026-01-02T03:04:05Z"


def _prediction(status: str = "succeeded", **fields: Any) -> dict[str, Any]:
    return {
        "id": "pred_1",
        "model": "sentiment",
        "version": 1,
        "status": status,
        "input": {"text": "hi"},
        "output": {"label": "positive"} if status == "succeeded" else None,
        "created_at": CREATED,
        **fields,
    }


def _problem(status: int, title: str, detail: str, **extra: Any) -> httpx.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": "/v1/x", **extra}
    headers = {"X-Request-Id": "req-123", "Content-Type": "application/problem+json"}
    return httpx.Response(status, json=body, headers=headers)


class Api:
    """A fake Infergate: routes ("METHOD /path") to handlers, and every request it saw."""

    def __init__(self, routes: dict[str, Handler | httpx.Response | list[httpx.Response]]) -> None:
        self.routes = routes
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        route = self.routes.get(f"{request.method} {request.url.path}")
        if route is None:
            route = self.routes.get(f"{request.method} {request.url.host}")
        if route is None:
            return _problem(404, "Not Found", f"no route {request.method} {request.url.path}")
        if isinstance(route, list):
            return route.pop(0) if len(route) > 1 else route[0]
        return route if isinstance(route, httpx.Response) else route(request)

    def factory(self, base_url: str | None, api_key: str | None) -> Infergate:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return Infergate(base_url or BASE, api_key or "igk_test", max_retries=0, http_client=http)

    def bodies(self, route: str) -> list[Any]:
        method, path = route.split(" ", 1)
        return [json.loads(r.content) for r in self.seen if r.method == method and r.url.path == path]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines()]


def cli(api: Api, *argv: str, stdin: str = "") -> Run:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(list(argv), client_factory=api.factory, stdout=stdout, stderr=stderr, stdin=io.StringIO(stdin))
    return Run(code, stdout.getvalue(), stderr.getvalue())


def test_predict_builds_the_input_from_pairs_and_prints_the_output() -> None:
    api = Api({"POST /v1/predictions": httpx.Response(201, json=_prediction())})
    done = cli(api, "predict", "sentiment", "text=hi there", "n=3", "zip==02134", "--version", "2")

    assert done.code == 0, done.stderr
    assert api.bodies("POST /v1/predictions") == [
        {"model": "sentiment:2", "input": {"text": "hi there", "n": 3, "zip": "02134"}}
    ]
    assert api.seen[0].headers["Prefer"].startswith("wait=")
    assert json.loads(done.stdout) == {"label": "positive"}


def test_predict_json_prints_exactly_one_document_and_reads_input_from_a_file(tmp_path: Path) -> None:
    api = Api({"POST /v1/predictions": httpx.Response(201, json=_prediction())})
    (tmp_path / "in.json").write_text('{"text": "from file", "n": 1}')
    done = cli(api, "--json", "predict", "sentiment", "--input", f"@{tmp_path / 'in.json'}", "n=2")

    assert done.code == 0
    assert done.json_lines() == [{"label": "positive"}]
    assert api.bodies("POST /v1/predictions")[0]["input"] == {"text": "from file", "n": 2}


def test_predict_async_creates_without_waiting_and_prints_the_prediction() -> None:
    api = Api({"POST /v1/predictions": httpx.Response(201, json=_prediction("starting"))})
    human = cli(api, "predict", "sentiment", "text=hi", "--async")
    machine = cli(api, "predict", "sentiment", "text=hi", "--async", "--json")

    assert "Prefer" not in api.seen[0].headers
    assert human.code == 0
    assert "id:" in human.stdout
    assert "pred_1" in human.stdout.splitlines()[0]
    assert "status:" in human.stdout
    assert "infergate predictions get pred_1" in human.stderr
    [document] = machine.json_lines()
    assert document["id"] == "pred_1"
    assert document["status"] == "starting"
    assert machine.stderr == ""


def test_a_failed_prediction_exits_1_with_its_error() -> None:
    failed = _prediction("failed", error={"code": "model_error", "message": "boom"})
    api = Api({"POST /v1/predictions": httpx.Response(201, json=failed)})
    done = cli(api, "predict", "sentiment", "text=hi")

    assert done.code == 1
    assert done.stdout == ""
    assert "model_error: boom" in done.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["predict", "sentiment"], "no input"),
        (["predict", "sentiment", "novalue"], "KEY=VALUE"),
        (["predict", "sentiment", "--input", "{nope"], "not valid JSON"),
        (["predict", "sentiment", "--input", "@/no/such/file.json"], "cannot read"),
        (["predict", "sentiment", "x=NaN"], "'x=NaN'"),
        (["predict", "sentiment", "--input", '{"x": Infinity}'], "Infinity"),
        (["nonsense"], "invalid choice"),
        (["keys", "create", "--name", "x"], "--scope"),
        (["predictions", "list", "--limit", "many"], "invalid int"),
    ],
)
def test_usage_errors_exit_2_without_calling_the_api(argv: list[str], message: str) -> None:
    api = Api({})
    done = cli(api, *argv)

    assert done.code == 2
    assert message in done.stderr
    assert done.stdout == ""
    assert api.seen == []


def test_help_documents_the_exit_statuses() -> None:
    done = cli(Api({}), "--help")

    assert done.code == 0
    for code in ExitCode:
        assert f"{code.value:>3}  " in done.stdout
    assert "KEY==VALUE" in cli(Api({}), "predict", "--help").stdout


def test_without_a_base_url_or_key_the_command_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INFERGATE_BASE_URL", raising=False)
    monkeypatch.delenv("INFERGATE_API_KEY", raising=False)
    stderr = io.StringIO()

    assert main(["models", "list"], stdout=io.StringIO(), stderr=stderr) == 2
    assert "INFERGATE_BASE_URL" in stderr.getvalue()


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, ExitCode.INVALID_INPUT),
        (401, ExitCode.AUTH),
        (403, ExitCode.AUTH),
        (404, ExitCode.NOT_FOUND),
        (409, ExitCode.CONFLICT),
        (413, ExitCode.INVALID_INPUT),
        (415, ExitCode.INVALID_INPUT),
        (422, ExitCode.INVALID_INPUT),
        (429, ExitCode.RATE_LIMITED),
        (500, ExitCode.UNAVAILABLE),
        (502, ExitCode.UNAVAILABLE),
        (503, ExitCode.UNAVAILABLE),
    ],
)
def test_each_error_class_has_its_exit_status_and_one_clear_line(status: int, code: ExitCode) -> None:
    api = Api({"GET /v1/models/nope": _problem(status, "Some Title", "What went wrong.")})
    done = cli(api, "models", "show", "nope")

    assert done.code == code
    assert done.stdout == ""
    first, *rest = done.stderr.splitlines()
    assert first == f"infergate: error: Some Title ({status})"
    assert "  What went wrong." in rest
    assert "  request id: req-123" in rest


def test_with_json_the_problem_document_follows_on_stderr_and_stdout_stays_empty() -> None:
    errors = [{"pointer": "/input/text", "detail": "must be of type string"}]
    refused = _problem(422, "Unprocessable Entity", "The input does not match.", errors=errors)
    api = Api({"POST /v1/predictions": refused})
    done = cli(api, "predict", "sentiment", "text=3", "--json")

    assert done.code == ExitCode.INVALID_INPUT
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert "  /input/text: must be of type string" in lines
    assert "  request id: req-123" in lines
    problem = json.loads(lines[-1])
    assert problem["status"] == 422
    assert problem["errors"] == errors


def test_a_model_past_its_time_limit_and_a_client_timeout_exit_124() -> None:
    late = _problem(422, "Unprocessable Entity", "The model took too long.", type="urn:infergate:problem:timeout")
    assert cli(Api({"POST /v1/predictions": late}), "predict", "sentiment", "text=hi").code == ExitCode.TIMEOUT

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    assert cli(Api({"GET /v1/models": slow}), "models", "list").code == ExitCode.TIMEOUT


def test_a_prediction_still_running_at_the_timeout_exits_124_naming_it() -> None:
    api = Api(
        {
            "POST /v1/predictions": httpx.Response(201, json=_prediction("processing")),
            "GET /v1/predictions/pred_1": httpx.Response(200, json=_prediction("processing")),
        }
    )
    done = cli(api, "predict", "sentiment", "text=hi", "--timeout", "0")

    assert done.code == ExitCode.TIMEOUT
    assert "infergate predictions get pred_1" in done.stderr


def test_no_connection_exits_8_and_rate_limits_say_when_to_retry() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    done = cli(Api({"GET /v1/models": refused}), "models", "list")
    assert done.code == ExitCode.UNAVAILABLE
    assert "could not be reached" in done.stderr

    limited = _problem(429, "Too Many Requests", "Over the key's limit.")
    limited.headers["Retry-After"] = "7"
    done = cli(Api({"GET /v1/models": limited}), "models", "list")
    assert done.code == ExitCode.RATE_LIMITED
    assert "retry after 7 s" in done.stderr


MODELS = {
    "results": [
        {"name": "echo", "description": "Output = input.", "latest_version": 1, "versions": []},
        {"name": "sentiment", "description": "VADER.", "latest_version": 2, "versions": []},
    ]
}


def test_an_answer_the_service_never_gives_is_one_line_and_a_service_fault() -> None:
    api = Api({"GET /v1/predictions/pred_1": httpx.Response(200, json={"hello": 1})})  # not a prediction
    human = cli(api, "predictions", "get", "pred_1")
    machine = cli(api, "predictions", "get", "pred_1", "--json")

    assert human.code == machine.code == ExitCode.UNAVAILABLE
    assert human.stdout == machine.stdout == ""
    [line] = human.stderr.splitlines()
    assert line.startswith("infergate: error: ")
    assert "is not what this client expects" in line
    first, problem = machine.stderr.splitlines()
    assert first == line
    assert json.loads(problem)["title"] == "UnexpectedResponse"


def test_an_error_nothing_else_catches_is_one_line_with_its_type_and_exits_1() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()

    code = main(
        ["models", "list"], client_factory=_raising(RuntimeError("something broke")), stdout=stdout, stderr=stderr
    )

    assert (code, stdout.getvalue()) == (ExitCode.FAILED, "")
    assert stderr.getvalue().splitlines() == ["infergate: error: RuntimeError: something broke"]


def _raising(error: BaseException) -> Callable[[str | None, str | None], Infergate]:
    def factory(base_url: str | None, api_key: str | None) -> Infergate:
        raise error

    return factory


def test_an_os_error_is_reported_but_exit_and_interrupt_are_not_swallowed() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    factory = _raising(PermissionError(13, "Permission denied", "/x"))
    assert main(["models", "list"], client_factory=factory, stdout=stdout, stderr=stderr) == ExitCode.FAILED
    assert stderr.getvalue() == "infergate: error: PermissionError: [Errno 13] Permission denied: '/x'\n"

    interrupted = main(["models", "list"], client_factory=_raising(KeyboardInterrupt()), stdout=stdout, stderr=stderr)
    assert interrupted == ExitCode.INTERRUPTED
    with pytest.raises(SystemExit):
        main(["models", "list"], client_factory=_raising(SystemExit(9)), stdout=stdout, stderr=stderr)


def test_a_closed_stdout_stops_quietly_and_leaves_no_error_for_the_interpreter_exit() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader went away, as `head -1` does
    stdout, stderr = open(write_end, "w"), io.StringIO()  # noqa: SIM115
    api = Api({"GET /v1/models": httpx.Response(200, json=MODELS)})
    try:
        code = main(["models", "list"], client_factory=api.factory, stdout=stdout, stderr=stderr)
        assert code == ExitCode.BROKEN_PIPE
        assert stderr.getvalue() == ""
        stdout.write("more")
        stdout.flush()  # stdout now goes nowhere: the flush at exit cannot fail
    finally:
        stdout.close()


def test_the_console_script_piped_into_a_reader_that_leaves_exits_141_without_a_traceback() -> None:
    script = (
        "import sys, httpx\n"
        "from infergate import Infergate\n"
        "from infergate.cli import main\n"
        "rows = [{'name': f'model-{n}', 'latest_version': 1, 'versions': []} for n in range(20000)]\n"
        "answer = httpx.Response(200, json={'results': rows, 'next': None})\n"
        "http = httpx.Client(transport=httpx.MockTransport(lambda request: answer))\n"
        "factory = lambda url, key: Infergate('http://api.test', 'igk_x', http_client=http)\n"
        "sys.exit(main(['models', 'list'], client_factory=factory))\n"
    )
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as reader:
        child = subprocess.Popen([sys.executable, "-c", script], stdout=write_end, stderr=subprocess.PIPE)
        os.close(write_end)
        reader.read(10)
    _, stderr = child.communicate(timeout=60)

    assert child.returncode == 141
    assert stderr == b""


def test_models_list_is_a_table_for_people_and_json_lines_with_json_after_the_command() -> None:
    api = Api({"GET /v1/models": httpx.Response(200, json=MODELS)})
    human = cli(api, "models", "list")
    machine = cli(api, "models", "list", "--json")

    header, echo, sentiment = human.stdout.splitlines()
    assert header.split() == ["NAME", "LATEST", "VERSIONS", "DESCRIPTION"]
    assert echo.split()[:2] == ["echo", "1"]
    assert header.index("LATEST") == echo.index("1") == sentiment.index("2")  # aligned
    assert [m["name"] for m in machine.json_lines()] == ["echo", "sentiment"]


def test_models_show_prints_the_model_then_its_versions() -> None:
    version = {"version": 1, "runtime": "onnx", "input_schema": {}, "output_schema": {}, "created_at": CREATED}
    model = {"name": "iris", "description": "", "latest_version": 1, "versions": [version]}
    api = Api({"GET /v1/models/iris": httpx.Response(200, json=model)})
    done = cli(api, "models", "show", "iris")

    assert done.code == 0
    assert "name:" in done.stdout
    assert "iris" in done.stdout
    assert "VERSION  RUNTIME  TASK  CREATED" in done.stdout
    [shown] = json.loads(cli(api, "models", "show", "iris", "--json").stdout)["versions"]
    assert shown.items() >= version.items()


def test_models_push_uploads_the_file_and_registers_it_with_its_schemas(tmp_path: Path) -> None:
    graph = tmp_path / "model.onnx"
    graph.write_bytes(b"onnx bytes")
    upload = {"id": "upl_1", "bytes": 10, "purpose": "model_artifact", "status": "pending"}
    upload |= {"url": "http://s3.test/put", "method": "PUT", "headers": {}}
    version = {"version": 3, "runtime": "onnx", "input_schema": {}, "output_schema": {}, "created_at": CREATED}
    api = Api(
        {
            "POST /v1/uploads": httpx.Response(201, json=upload),
            "PUT s3.test": httpx.Response(200),
            "POST /v1/models/mine/versions": httpx.Response(201, json=version),
        }
    )
    done = cli(
        api, "models", "push", "mine", str(graph), "--input-schema", '{"type": "object"}', "--output-schema", "{}"
    )

    assert done.code == 0, done.stderr
    [body] = api.bodies("POST /v1/models/mine/versions")
    assert body["upload_id"] == "upl_1"
    assert body["input_schema"] == {"type": "object"}
    assert "registered mine:3" in done.stderr


def test_predictions_list_filters_by_status_across_pages_up_to_the_limit() -> None:
    page1 = {"results": [_prediction("failed", id="p1"), _prediction(id="p2")], "next": "c2"}
    page2 = {"results": [_prediction(id="p3"), _prediction(id="p4")], "next": None}

    def pages(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=page2 if request.url.params.get("cursor") == "c2" else page1)

    api = Api({"GET /v1/predictions": pages})
    done = cli(api, "predictions", "list", "--status", "succeeded", "--limit", "2", "--json")

    assert [p["id"] for p in done.json_lines()] == ["p2", "p3"]
    human = cli(api, "predictions", "list")
    assert human.stdout.splitlines()[0].split() == ["ID", "MODEL", "VERSION", "STATUS", "CREATED"]
    assert len(human.stdout.splitlines()) == 5


def test_predictions_get_and_cancel_print_the_record() -> None:
    api = Api(
        {
            "GET /v1/predictions/pred_1": httpx.Response(200, json=_prediction()),
            "POST /v1/predictions/pred_1/cancel": httpx.Response(200, json=_prediction("canceled")),
        }
    )
    got = cli(api, "predictions", "get", "pred_1")
    assert got.code == 0
    assert "output:" in got.stdout
    assert '{"label":"positive"}' in got.stdout
    assert json.loads(cli(api, "--json", "predictions", "cancel", "pred_1").stdout)["status"] == "canceled"
    assert cli(api, "predictions", "get", "pred_2").code == ExitCode.NOT_FOUND


def test_keys_create_prints_the_secret_once_with_a_warning_then_list_and_revoke() -> None:
    created = {"id": "key_1", "name": "ci", "scopes": ["predict"], "key": "igk_secret", "created_at": CREATED}
    listed = {"results": [{**created, "last4": "cret"}], "next": None}
    api = Api(
        {
            "POST /v1/keys": httpx.Response(201, json=created),
            "GET /v1/keys": httpx.Response(200, json=listed),
            "DELETE /v1/keys/key_1": httpx.Response(204),
        }
    )
    made = cli(api, "keys", "create", "--name", "ci", "--scope", "predict", "--json")
    assert made.json_lines()[0]["key"] == "igk_secret"
    assert "not shown again" in made.stderr
    assert api.bodies("POST /v1/keys") == [{"name": "ci", "scopes": ["predict"]}]
    rows = cli(api, "keys", "list").stdout.splitlines()
    assert rows[0].split() == ["ID", "NAME", "SCOPES", "LAST4", "CREATED"]
    assert "igk_secret" not in rows[1]
    assert cli(api, "keys", "revoke", "key_1").stdout == "revoked key_1\n"
    assert cli(api, "keys", "revoke", "key_1", "--json").json_lines() == [{"id": "key_1", "revoked": True}]


def test_webhooks_secret_and_rotate() -> None:
    api = Api(
        {
            "GET /v1/webhooks/secret": httpx.Response(200, json={"key": "whsec_a"}),
            "POST /v1/webhooks/secret/rotate": httpx.Response(200, json={"key": "whsec_b"}),
        }
    )
    assert cli(api, "webhooks", "secret").stdout == "key: whsec_a\n"
    assert cli(api, "webhooks", "rotate", "--json").json_lines() == [{"key": "whsec_b"}]


# --- batches --------------------------------------------------------------------------------------


def _batch_object(status: str, total: int = 0, completed: int = 0, failed: int = 0, **fields: Any) -> dict[str, Any]:
    final = status in ("completed", "failed", "expired", "cancelled")
    return {
        "id": "bat_1",
        "object": "batch",
        "status": status,
        "model": "sentiment",
        "version": 1,
        "request_counts": {"total": total, "completed": completed, "failed": failed},
        "created_at": 1767322800,
        "output_url": "http://s3.test/out" if final and completed else None,
        "errors_url": "http://s3.test/err" if final and failed else None,
        **fields,
    }


OUTPUT_LINES = [{"custom_id": "a", "output": {"label": "positive"}}, {"custom_id": "b", "output": {"label": "neutral"}}]
ERROR_LINES = [{"custom_id": "c", "error": {"code": "invalid_input", "message": "Line 3: bad"}}]


def _jsonl(lines: list[dict[str, Any]]) -> httpx.Response:
    return httpx.Response(200, content=b"".join(json.dumps(line).encode() + b"\n" for line in lines))


def _batch_api(
    *states: dict[str, Any], outputs: list[dict[str, Any]] = OUTPUT_LINES, errors: list[dict[str, Any]] = ERROR_LINES
) -> Api:
    upload = {"id": "upl_1", "bytes": 3, "purpose": "batch_input", "status": "pending"}
    upload |= {"url": "http://s3.test/put", "method": "PUT", "headers": {"Content-Type": "application/jsonl"}}

    def s3(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(200)
        return _jsonl(outputs if request.url.path == "/out" else errors)

    return Api(
        {
            "POST /v1/uploads": httpx.Response(201, json=upload),
            "PUT s3.test": s3,
            "GET s3.test": s3,
            "POST /v1/batches": httpx.Response(201, json=_batch_object("validating")),
            "GET /v1/batches/bat_1": [httpx.Response(200, json=state) for state in states],
        }
    )


STATES = (
    _batch_object("validating"),
    _batch_object("in_progress", 3, 1, 0),
    _batch_object("completed", 3, 2, 1),
)


def test_batches_run_uploads_waits_with_plain_progress_lines_and_writes_both_files(tmp_path: Path) -> None:
    source, out, errors = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "err.jsonl"
    source.write_text('{"custom_id": "a", "input": {"text": "x"}}\n')
    api = _batch_api(*STATES)
    done = cli(
        api, "batches", "run", str(source), "--model", "sentiment", "--out", str(out), "--errors", str(errors),
        "--poll-interval", "0",
    )  # fmt: skip

    assert done.code == 0, done.stderr
    assert api.bodies("POST /v1/batches") == [{"model": "sentiment", "input_upload_id": "upl_1"}]
    assert [json.loads(line) for line in out.read_text().splitlines()] == OUTPUT_LINES
    assert [json.loads(line) for line in errors.read_text().splitlines()] == ERROR_LINES
    assert done.stderr.splitlines() == [
        "batch bat_1 created (sentiment, " + str(source) + ")",
        "batch bat_1: validating, 0/0 lines done",
        "batch bat_1: in_progress, 1/3 lines done",
        "batch bat_1: completed, 3/3 lines done (1 failed)",
    ]
    assert done.stdout.startswith("batch bat_1 completed: 3/3 lines, 1 failed; 2 output lines in ")


def test_batches_run_without_errors_file_writes_every_line_to_out_and_json_prints_the_batch(tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("{}\n")
    done = cli(
        _batch_api(*STATES), "--json", "batches", "run", str(source), "--model", "sentiment", "--out", str(out),
        "--poll-interval", "0",
    )  # fmt: skip

    assert done.code == 0
    [document] = done.json_lines()
    assert document["status"] == "completed"
    assert [json.loads(line) for line in out.read_text().splitlines()] == OUTPUT_LINES + ERROR_LINES


def test_ctrl_c_while_waiting_keeps_the_batch_and_says_how_to_resume(tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "my out.jsonl"
    source.write_text("{}\n")
    api = _batch_api(*STATES)
    gets = api.routes["GET /v1/batches/bat_1"]
    assert isinstance(gets, list)

    def interrupted(request: httpx.Request) -> httpx.Response:
        if len(gets) == 2:  # the second look: Ctrl-C while the batch runs
            raise KeyboardInterrupt
        return gets.pop(0)

    api.routes["GET /v1/batches/bat_1"] = interrupted
    done = cli(api, "batches", "run", str(source), "--model", "sentiment", "--out", str(out), "--poll-interval", "0")

    assert done.code == ExitCode.INTERRUPTED
    assert "interrupted: batch bat_1 keeps running" in done.stderr
    assert f"resume with: infergate batches wait bat_1 --out '{out}'" in done.stderr
    assert not out.exists()

    api.routes["GET /v1/batches/bat_1"] = gets
    resumed = cli(api, "batches", "wait", "bat_1", "--out", str(out), "--poll-interval", "0")
    assert resumed.code == 0
    assert len(out.read_text().splitlines()) == 3


def test_a_batch_that_failed_validation_exits_1_naming_each_line(tmp_path: Path) -> None:
    errors = {"object": "list", "data": [{"code": "invalid_json", "message": "not JSON", "line": 2}]}
    api = _batch_api(_batch_object("failed", errors=errors))
    done = cli(api, "batches", "wait", "bat_1", "--out", str(tmp_path / "out.jsonl"))

    assert done.code == ExitCode.FAILED
    assert "  line 2: invalid_json: not JSON" in done.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_batches_list_show_and_cancel() -> None:
    listed = {"object": "list", "data": [_batch_object("in_progress", 10, 4, 1)], "has_more": False, "next": None}
    api = Api(
        {
            "GET /v1/batches": httpx.Response(200, json=listed),
            "GET /v1/batches/bat_1": httpx.Response(200, json=_batch_object("in_progress", 10, 4, 1)),
            "POST /v1/batches/bat_1/cancel": httpx.Response(200, json=_batch_object("cancelling", 10, 4, 1)),
        }
    )
    header, row = cli(api, "batches", "list").stdout.splitlines()
    assert header.split() == ["ID", "STATUS", "MODEL", "DONE", "FAILED", "CREATED"]
    assert row.split() == ["bat_1", "in_progress", "sentiment", "5/10", "1", "2026-01-02T03:00:00Z"]
    assert "created_at:      2026-01-02T03:00:00Z" in cli(api, "batches", "show", "bat_1").stdout
    assert cli(api, "batches", "cancel", "bat_1", "--json").json_lines()[0]["status"] == "cancelling"


def _run_batch(api: Api, tmp_path: Path, *options: str) -> Run:
    source = tmp_path / "in.jsonl"
    source.write_text('{"custom_id": "a", "input": {"text": "x"}}\n')
    return cli(api, "batches", "run", str(source), "--model", "sentiment", "--poll-interval", "0", *options)


def test_each_result_file_gets_the_lines_of_its_source_even_openai_lines_with_a_null_error(tmp_path: Path) -> None:
    # The OpenAI dialect's output lines carry "error": null and no "output".
    openai = [{"id": "r1", "custom_id": "a", "response": {"status_code": 200, "body": {}}, "error": None}]
    out, errors = tmp_path / "out.jsonl", tmp_path / "err.jsonl"
    done = _run_batch(_batch_api(*STATES, outputs=openai), tmp_path, "--out", str(out), "--errors", str(errors))

    assert done.code == 0, done.stderr
    assert [json.loads(line) for line in out.read_text().splitlines()] == openai
    assert [json.loads(line) for line in errors.read_text().splitlines()] == ERROR_LINES
    assert "1 output lines in " in done.stdout
    assert ", 1 error lines in " in done.stdout

    both = cli(_batch_api(*STATES, outputs=openai), "batches", "wait", "bat_1", "--out", str(out))
    assert both.code == 0, both.stderr
    assert [json.loads(line) for line in out.read_text().splitlines()] == openai + ERROR_LINES


@pytest.mark.parametrize(
    "options",
    [
        ["--out", "{tmp}/no/such/dir/out.jsonl"],
        ["--out", "{tmp}/out.jsonl", "--errors", "{tmp}/no/such/dir/err.jsonl"],
        ["--out", "{tmp}"],  # a directory
        ["--out", "{tmp}/in.jsonl/out.jsonl"],  # under a file
        ["--out", "{tmp}/out.jsonl", "--errors", "{tmp}/out.jsonl"],
    ],
)
def test_a_result_file_that_cannot_be_written_is_a_usage_error_before_anything_runs(
    tmp_path: Path, options: list[str]
) -> None:
    api = _batch_api(*STATES)
    argv = [option.format(tmp=tmp_path) for option in options]
    ran = _run_batch(api, tmp_path, *argv)
    waited = cli(api, "batches", "wait", "bat_1", *argv)

    assert ran.code == waited.code == ExitCode.USAGE
    assert api.seen == []  # nothing uploaded, created or waited for
    assert ran.stderr.startswith("infergate: error: ")
    assert ("--errors" if "--errors" in options else "--out") in ran.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # the check leaves nothing behind


@pytest.mark.parametrize("route", ["PUT s3.test", "POST /v1/batches"])
def test_ctrl_c_before_the_batch_was_created_says_it_may_exist_and_how_to_look(tmp_path: Path, route: str) -> None:
    api = _batch_api(*STATES)

    def interrupted(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    api.routes[route] = interrupted
    done = _run_batch(api, tmp_path, "--out", str(tmp_path / "out.jsonl"))

    assert done.code == ExitCode.INTERRUPTED
    assert "may or may not" in done.stderr
    assert "infergate batches list" in done.stderr


def test_an_error_while_waiting_or_a_timeout_names_the_batch_and_how_to_resume(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    api = _batch_api(*STATES)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    api.routes["GET /v1/batches/bat_1"] = refused
    done = _run_batch(api, tmp_path, "--out", str(out))
    assert done.code == ExitCode.UNAVAILABLE
    assert f"resume with: infergate batches wait bat_1 --out {out}" in done.stderr

    late = _run_batch(_batch_api(_batch_object("in_progress", 3, 1, 0)), tmp_path, "--out", str(out), "--timeout", "0")
    assert late.code == ExitCode.TIMEOUT
    assert "timed out: batch bat_1 keeps running" in late.stderr
    assert f"resume with: infergate batches wait bat_1 --out {out}" in late.stderr


@pytest.mark.parametrize("stop", [KeyboardInterrupt, httpx.ReadError])
def test_a_stop_while_writing_results_leaves_no_partial_file_and_says_how_to_write_them(
    tmp_path: Path, stop: type[BaseException]
) -> None:
    out, errors = tmp_path / "out.jsonl", tmp_path / "err.jsonl"
    out.write_text("from an earlier run\n")
    api = _batch_api(*STATES)
    s3 = api.routes["GET s3.test"]
    assert callable(s3)

    def broken(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/err":  # the outputs are written, the errors are not
            raise KeyboardInterrupt if stop is KeyboardInterrupt else httpx.ReadError("reset", request=request)
        return s3(request)

    api.routes["GET s3.test"] = broken
    done = _run_batch(api, tmp_path, "--out", str(out), "--errors", str(errors))

    assert done.code == (ExitCode.INTERRUPTED if stop is KeyboardInterrupt else ExitCode.UNAVAILABLE)
    assert "incomplete" in done.stderr
    assert f"infergate batches wait bat_1 --out {out} --errors {errors}" in done.stderr
    assert out.read_text() == "from an earlier run\n"  # untouched, not half-replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_a_pipe_as_out_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    done = cli(_batch_api(*STATES), "batches", "wait", "bat_1", "--out", str(fifo))
    reader.join(timeout=10)

    assert done.code == 0, done.stderr
    assert [json.loads(line) for line in got[0].splitlines()] == OUTPUT_LINES + ERROR_LINES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.fifo"]


def test_a_request_the_client_refuses_is_a_usage_error_and_a_garbled_answer_a_service_fault() -> None:
    from infergate import InvalidRequest, UnexpectedResponse
    from infergate.cli import exit_codes

    assert exit_codes.for_error(InvalidRequest("an id cannot be '..'")) == exit_codes.ExitCode.USAGE
    assert exit_codes.for_error(UnexpectedResponse("not JSON", 200, "req-1")) == exit_codes.ExitCode.UNAVAILABLE
