"""Many containers racing on one key's rate-limit item (moto): lost conditional writes never refuse.

A deterministic simulation: sixteen containers, each with its own client, store and limiter, share the
table and one clock. Requests arrive at a steady rate and go to a random container. Time passes between
any two clock readings (a thread descheduled, a slow call), and a container's write may be overtaken:
just before it is sent, other containers serve the next arrivals, so it reaches DynamoDB after their
writes, as a slow write does when two containers race on the same item.
"""

import contextlib
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from shared.adapters.dynamodb.ratelimits import _MAX_ATTEMPTS, DynamoRateLimitStore
from shared.ratelimit.models import RateLimit, RateLimitedError
from shared.ratelimit.service import RateLimiter
from shared.settings import StoreSettings, settings
from tests.support.emulated_table import emulated_table, emulator_client
from tools.provision import Stack

LIMIT = RateLimit(per_second=50, burst=100)  # the template's defaults
CONTAINERS = 16


class JitteryClock:
    """Epoch milliseconds; every reading lets a little time pass, now and then a lot (a descheduled thread)."""

    def __init__(self, rng: random.Random) -> None:
        self.ms = 1_800_000_000_000
        self._rng = rng

    def __call__(self) -> int:
        self.ms += self._rng.choice((0, 0, 0, 1, 1, 2, 3, 5, 8, 13, 21))
        return self.ms


@dataclass
class Simulation:
    rate_per_second: float
    requests: int
    seed: int
    overtake: float = 0.3  # chance that a write is overtaken by the next arrivals
    admitted: list[int] = field(default_factory=list)  # arrival times (ms) of admitted requests
    refused: list[tuple[int, float]] = field(default_factory=list)  # (arrival, Retry-After seconds)
    span_ms: int = 0  # how long the run took on the shared clock

    def run(self, key: str) -> "Simulation":
        rng = random.Random(self.seed)  # noqa: S311 - a reproducible simulation, not a secret
        clock = JitteryClock(rng)
        table = settings(StoreSettings).table_name
        start = clock.ms
        arrivals: Iterator[int] = iter(start + int(i * 1000 / self.rate_per_second) for i in range(self.requests))
        containers: list[RateLimiter] = []
        busy: set[int] = set()  # containers in the middle of a request (a container serves one at a time)

        def serve(arrival: int) -> None:
            free = [i for i in range(CONTAINERS) if i not in busy]
            index = rng.choice(free)
            clock.ms = max(clock.ms, arrival)
            busy.add(index)
            try:
                containers[index].check(key)
                self.admitted.append(arrival)
            except RateLimitedError as refused:
                self.refused.append((arrival, refused.retry_after))
            finally:
                busy.discard(index)

        def overtaken(**_event: Any) -> None:
            """Before a write is sent, the next arrivals (up to three) are served by other containers."""
            if len(busy) >= CONTAINERS or rng.random() >= self.overtake:
                return
            for _ in range(rng.randint(1, 3)):
                arrival = next(arrivals, None)
                if arrival is None or len(busy) >= CONTAINERS:
                    return
                serve(arrival)

        for _ in range(CONTAINERS):
            client = boto3.client("dynamodb")
            client.meta.events.register("before-call.dynamodb.UpdateItem", overtaken)
            containers.append(RateLimiter(DynamoRateLimitStore(table, client), LIMIT, clock))
        for arrival in arrivals:
            serve(arrival)
        self.span_ms = clock.ms - start
        return self


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_contending_containers_below_the_limit_are_never_refused(stack: Stack, seed: int) -> None:
    """Found in production: 3-5 of 400 requests at 30/s on one key (limit 50/s) got 429, all from the
    fallback after three lost conditional writes, none because the key was over its limit."""
    run = Simulation(rate_per_second=0.6 * LIMIT.per_second, requests=3000, seed=seed).run("key_calm")

    assert run.refused == []
    assert len(run.admitted) == 3000


def test_a_key_at_150_percent_is_held_to_its_rate_within_a_few_percent(stack: Stack) -> None:
    run = Simulation(rate_per_second=1.5 * LIMIT.per_second, requests=3000, seed=7).run("key_hot")

    allowed = LIMIT.burst + LIMIT.per_second * run.span_ms / 1000
    assert len(run.admitted) <= allowed
    assert len(run.admitted) >= 0.97 * allowed


# A burst under 20 is counted exactly (no leases): every request of the sixteen threads writes and races, the
# most contention one key can see. (It refused one or two requests in clean CI runs while a request judged a
# reading of the clock frozen after its fourth lost write; each attempt now reads the clock.)
CONCURRENT_LIMIT = RateLimit(per_second=100, burst=19)


@pytest.fixture(scope="module", name="emulated_table")
def emulated_table_fixture() -> Iterator[tuple[str, str]]:
    with emulated_table("ratelimits") as endpoint:
        yield endpoint, "ratelimits"


def test_sixteen_threads_below_the_limit_are_never_refused(emulated_table: tuple[str, str]) -> None:
    """Real concurrency: sixteen threads, each a container with its own client, limiter and the real clock,
    send at most 60 % of the key's rate between them; their writes race on the one item. Each thread
    waits its share of the period after each answer, so however slow the emulator is (the machine is
    shared), the key is never over its limit: at most 16 requests at once (burst 19), then a pause."""
    endpoint, table = emulated_table
    threads, per_thread = 16, 20
    period_s = threads / (0.6 * CONCURRENT_LIMIT.per_second)  # each thread's share of 60 % of the limit
    limiters = [
        RateLimiter(DynamoRateLimitStore(table, emulator_client(endpoint)), CONCURRENT_LIMIT) for _ in range(threads)
    ]
    refused: list[int] = []

    def client(index: int) -> None:
        time.sleep(index * period_s / threads)  # staggered starts
        for _ in range(per_thread):
            try:
                limiters[index].check("key_concurrent")
            except RateLimitedError:
                refused.append(index)
            time.sleep(period_s)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(client, range(threads)))

    assert refused == []


def test_a_request_overtaken_at_every_write_ends_and_is_refused_only_by_a_full_key(stack: Stack) -> None:
    """The retries end (the clock is read afresh only a few times, then each lost write leaves fewer
    tokens to take), and a refusal comes only when the stored state says the key is over its limit."""
    limit = RateLimit(per_second=50, burst=10)  # leases of one token: every request writes
    clock = JitteryClock(random.Random(11))  # noqa: S311 - reproducible
    table = settings(StoreSettings).table_name
    raced = boto3.client("dynamodb")
    racer = RateLimiter(DynamoRateLimitStore(table, boto3.client("dynamodb")), limit, clock)
    readings: list[int] = []  # the limiter's own clock readings: the last one judged its request

    def limiter_clock() -> int:
        readings.append(clock())
        return readings[-1]

    limiter = RateLimiter(DynamoRateLimitStore(table, raced), limit, limiter_clock)
    writes = [0]

    def overtaken(**_event: Any) -> None:  # before each of the limiter's writes, the racer serves three requests
        writes[0] += 1
        for _ in range(3):
            with contextlib.suppress(RateLimitedError):
                racer.check("key_raced")

    raced.meta.events.register("before-call.dynamodb.UpdateItem", overtaken)
    outcomes: list[bool] = []
    justified: list[bool] = []
    for _ in range(60):
        writes[0] = 0
        try:
            limiter.check("key_raced")
            outcomes.append(True)
        except RateLimitedError:
            outcomes.append(False)
            item = raced.get_item(TableName=table, Key={"PK": {"S": "RATE#key_raced"}, "SK": {"S": "RATE"}})
            justified.append(int(item["Item"]["tat"]["N"]) > readings[-1] + limit.tolerance_ms)
        assert writes[0] <= _MAX_ATTEMPTS  # the retries end

    assert True in outcomes  # admitted while the key had room
    assert False in outcomes  # refused once it was full
    assert all(justified)
