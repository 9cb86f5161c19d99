"""No-loss load test over the local stack: many clients, retries, races and cancels; nothing lost or doubled.

20 clients, each with its own API key of one fresh tenant, submit 100 predictions each (2,000 in
all) over real HTTP, cycling through ``echo``, ``sentiment`` and ``iris``. Along the way they:
- resend every 10th create with the same ``Idempotency-Key`` (a client retrying after a timeout);
- send every 25th create twice *at once* with one ``Idempotency-Key`` (two retries racing);
- cancel every 7th prediction right after creating it.
Then every accepted prediction must reach exactly one terminal state, the tenant must hold exactly
the accepted predictions (no duplicate from a retry), every ``echo`` output must equal its input, and
no response may be a 5xx. Throughput and latency percentiles are printed as a table.
"""

import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LocalStack, mint_key

pytestmark = pytest.mark.e2e

CLIENTS = 20
PER_CLIENT = 100
RETRY_EVERY, RACE_EVERY, CANCEL_EVERY = 10, 25, 7
TERMINAL = {"succeeded", "failed", "canceled"}
SETTLE_SECONDS = 240.0
IRIS_ROWS = ([5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5])


@dataclass
class Submitted:
    """What one client saw: the ids it was given, their inputs, and every response status and latency."""

    inputs: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    canceled: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    create_latencies: list[float] = field(default_factory=list)
    replays_mismatched: list[str] = field(default_factory=list)


def _request(n: int, client_no: int) -> tuple[str, dict[str, Any]]:
    model = ("echo", "sentiment", "iris")[n % 3]
    if model == "echo":
        return model, {"client": client_no, "n": n, "tags": ["load", str(n)]}
    if model == "sentiment":
        return model, {"text": f"Client {client_no} thinks request {n} went {('well', 'badly', 'ok')[n % 3]}."}
    return model, {"features": IRIS_ROWS[n % len(IRIS_ROWS)]}


class LoadClient:
    def __init__(self, base_url: str, key: str, number: int, lock: threading.Lock, seen: Submitted) -> None:
        self._http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60.0)
        self._number = number
        self._lock = lock
        self._seen = seen

    def _post(self, path: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Any:
        started = time.perf_counter()
        response = self._http.post(path, json=body, headers=headers)
        elapsed = time.perf_counter() - started
        with self._lock:
            self._seen.statuses[response.status_code] += 1
            if path == "/v1/predictions":
                self._seen.create_latencies.append(elapsed)
        assert response.status_code < 500, f"{path}: {response.status_code} {response.text}"
        return response

    def create(self, n: int, idempotency_key: str | None = None) -> str:
        model, payload = _request(n, self._number)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = self._post("/v1/predictions", {"model": model, "input": payload}, headers)
        assert response.status_code == 201, response.text
        prediction_id: str = response.json()["id"]
        with self._lock:
            self._seen.inputs[prediction_id] = (model, payload)
        return prediction_id

    def run(self) -> None:
        with self._http:
            for n in range(PER_CLIENT):
                key = f"load-{self._number}-{n}"
                if n % RACE_EVERY == 0:
                    with ThreadPoolExecutor(2) as pair:
                        ids = set(pair.map(self.create, [n, n], [key, key]))
                elif n % RETRY_EVERY == 0:
                    ids = {self.create(n, key), self.create(n, key)}
                else:
                    ids = {self.create(n)}
                if len(ids) != 1:
                    with self._lock:
                        self._seen.replays_mismatched.append(key)
                prediction_id = ids.pop()
                if n % CANCEL_EVERY == 0:
                    response = self._post(f"/v1/predictions/{prediction_id}/cancel")
                    assert response.status_code == 200, response.text
                    if response.json()["status"] == "canceled":
                        with self._lock:
                            self._seen.canceled.add(prediction_id)


def _all_predictions(client: httpx.Client) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 100} | ({"cursor": cursor} if cursor else {})
        response = client.get("/v1/predictions", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        yield from page["results"]
        cursor = page["next"]
        if not cursor:
            return


def _wait_until_terminal(client: httpx.Client, ids: list[str]) -> float:
    """Poll the oldest unfinished prediction until none is left; returns when that was.

    Cheap on purpose (one GET at a time, not a listing every round), so waiting does not slow the
    workers it waits for; the full listing afterwards checks every prediction.
    """
    pending = sorted(ids)  # ids sort by creation time; the queue runs roughly oldest first
    deadline = time.monotonic() + SETTLE_SECONDS
    while pending and time.monotonic() < deadline:
        response = client.get(f"/v1/predictions/{pending[0]}")
        assert response.status_code == 200, response.text
        if response.json()["status"] in TERMINAL:
            pending.pop(0)
        else:
            time.sleep(0.2)
    return time.perf_counter()


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def test_thousands_of_predictions_under_load_are_each_finished_exactly_once(
    local_stack: LocalStack, report: Callable[[str], None]
) -> None:
    admin = mint_key(local_stack, "load-tenant", "admin")
    with local_stack.client(admin) as tenant_admin:
        keys = []
        for number in range(CLIENTS):
            created = tenant_admin.post("/v1/keys", json={"name": f"load client {number}", "scopes": ["predict"]})
            assert created.status_code == 201, created.text
            keys.append(created.json()["key"])
        seen, lock = Submitted(), threading.Lock()
        clients = [LoadClient(local_stack.base_url, key, n, lock, seen) for n, key in enumerate(keys)]

        started = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(LoadClient.run, clients))  # re-raises the first client's failure
        submitted = time.perf_counter()
        settled = _wait_until_terminal(tenant_admin, list(seen.inputs))
        predictions = list(_all_predictions(tenant_admin))

    by_id = {p["id"]: p for p in predictions}
    assert len(seen.inputs) == CLIENTS * PER_CLIENT
    assert seen.replays_mismatched == []  # every retry and race got the original prediction back
    assert len(by_id) == len(predictions)  # no prediction listed twice
    assert set(by_id) == set(seen.inputs)  # nothing lost, nothing extra created by a retry
    unfinished = [p["id"] for p in predictions if p["status"] not in TERMINAL]
    assert unfinished == [], f"{len(unfinished)} predictions never finished"
    assert not [s for s in seen.statuses if s >= 500]
    assert set(seen.statuses) <= {200, 201}  # nothing rate limited or refused either
    for prediction_id, (model, payload) in seen.inputs.items():
        prediction = by_id[prediction_id]
        assert prediction["model"] == model
        assert prediction["input"] == payload
        if prediction_id in seen.canceled:
            assert prediction["status"] == "canceled"
            assert prediction["output"] is None
        else:
            assert prediction["status"] == "succeeded", prediction
            assert prediction["output"] is not None
            assert prediction["error"] is None
            if model == "echo":
                assert prediction["output"] == payload

    requests = sum(seen.statuses.values())
    latencies = seen.create_latencies
    rows = [
        ("clients", f"{CLIENTS}"),
        ("predictions accepted", f"{len(seen.inputs)}"),
        ("HTTP requests (creates, replays, cancels)", f"{requests}"),
        ("canceled before they ran", f"{len(seen.canceled)}"),
        ("submit phase", f"{submitted - started:.1f} s, {requests / (submitted - started):.1f} requests/s"),
        (
            "all terminal after",
            f"{settled - started:.1f} s, {len(seen.inputs) / (settled - started):.1f} predictions/s",
        ),
        ("create latency p50 / p95 / p99", " / ".join(f"{_percentile(latencies, q):.0f} ms" for q in (50, 95, 99))),
    ]
    width = max(len(name) for name, _ in rows)
    report("\n".join(["No-loss load test (local stack)", *(f"  {name:<{width}}  {value}" for name, value in rows)]))
