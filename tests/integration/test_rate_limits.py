"""Per-key rate limits on DynamoDB (moto): the GCRA arithmetic, sharing across containers, and the 429s."""

import pytest

from shared.adapters.clients import dynamodb_client
from shared.adapters.dynamodb.ratelimits import DynamoRateLimitStore
from shared.ratelimit.models import RateLimit, RateLimitedError
from shared.ratelimit.service import RateLimiter, RateLimits
from shared.settings import StoreSettings, settings
from shared.wiring import reset
from tests.conftest import Credential, MintKey
from tests.support.events import bearer, response_json
from tests.support.gateway import call
from tools.provision import Stack

LIMIT = RateLimit(per_second=10, burst=3)  # one request per 100 ms, three at once


class Clock:
    def __init__(self) -> None:
        self.ms = 1_800_000_000_000

    def __call__(self) -> int:
        return self.ms


def _container(clock: Clock) -> RateLimiter:
    """What one Lambda container builds: its own client and limiter, the shared table."""
    import boto3

    return RateLimiter(DynamoRateLimitStore(settings(StoreSettings).table_name, boto3.client("dynamodb")), LIMIT, clock)


def _admitted(limiter: RateLimiter, key: str) -> bool:
    try:
        limiter.check(key)
    except RateLimitedError:
        return False
    return True


def test_a_burst_is_admitted_then_the_sustained_rate(stack: Stack) -> None:
    clock = Clock()
    limiter = _container(clock)

    burst = [_admitted(limiter, "key_a") for _ in range(4)]
    clock.ms += 100  # one interval later: exactly one more
    after_one_interval = [_admitted(limiter, "key_a") for _ in range(2)]
    clock.ms += 1000  # a quiet second: the full burst again
    after_quiet = [_admitted(limiter, "key_a") for _ in range(4)]

    assert burst == [True, True, True, False]
    assert after_one_interval == [True, False]
    assert after_quiet == [True, True, True, False]


def test_the_limit_is_shared_by_every_container_and_separate_per_key(stack: Stack) -> None:
    clock = Clock()
    containers = [_container(clock) for _ in range(3)]

    first_key = [_admitted(containers[i % 3], "key_a") for i in range(6)]
    other_key = [_admitted(containers[i % 3], "key_b") for i in range(3)]

    assert first_key == [True, True, True, False, False, False]
    assert other_key == [True, True, True]


def test_a_request_that_waited_is_judged_at_the_time_of_its_write(stack: Stack) -> None:
    """Found by the load test: a request whose first clock reading went stale while others moved the
    key's arrival time on was refused although the key was within its limit. The clock is read again."""
    clock = Clock()
    limiter = _container(clock)
    clock.ms += 5000
    assert [_admitted(limiter, "key_a") for _ in range(2)] == [True, True]  # one of three left
    readings = iter([clock.ms - 5000])  # the request read the clock 5 s ago, then waited

    waited = RateLimiter(limiter._store, LIMIT, lambda: next(readings, clock.ms))

    assert _admitted(waited, "key_a")
    assert not _admitted(limiter, "key_a")  # and the limit still holds: that was the third


def test_retry_after_says_when_the_next_request_is_admitted(stack: Stack) -> None:
    clock = Clock()
    limiter = _container(clock)
    for _ in range(3):
        limiter.check("key_a")

    with pytest.raises(RateLimitedError) as limited:
        limiter.check("key_a")

    assert limited.value.retry_after == 1  # 100 ms, rounded up to whole seconds for the header
    clock.ms += 100
    assert _admitted(limiter, "key_a")


def test_no_limit_configured_admits_everything(stack: Stack) -> None:
    limiter = RateLimiter(DynamoRateLimitStore(settings(StoreSettings).table_name, dynamodb_client()), None)

    for _ in range(50):
        limiter.check("key_a")


def test_over_the_limit_is_a_429_problem_with_retry_after(
    stack: Stack, mint: MintKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RATE_LIMIT_PER_SECOND", "0.5")
    monkeypatch.setenv("RATE_LIMIT_BURST", "2")
    reset()
    caller: Credential = mint("acme")
    other: Credential = mint("acme")

    answers = [call("GET", "/v1/predictions", headers=bearer(caller.secret)) for _ in range(3)]
    oip = call("GET", "/v2/models/iris", headers=bearer(caller.secret))
    unaffected = call("GET", "/v1/predictions", headers=bearer(other.secret))

    assert [a["statusCode"] for a in answers] == [200, 200, 429]
    limited = answers[2]
    assert limited["headers"]["content-type"] == "application/problem+json"
    assert limited["headers"]["retry-after"] == "2"
    assert response_json(limited)["type"] == "urn:infergate:problem:rate-limited"
    assert oip["statusCode"] == 429
    assert list(response_json(oip)) == ["error"]
    assert unaffected["statusCode"] == 200


def test_a_key_costs_one_write_per_admitted_request_whether_busy_or_idle(stack: Stack) -> None:
    from bench.aws_calls import counting

    clock = Clock()
    limiter = _container(clock)
    writes = []
    for step_ms in (0, 0, 100, 100, 100, 1000, 1000, 40, 40):  # a burst, a steady busy run, quiet, busy
        clock.ms += step_ms
        with counting() as calls:
            assert _admitted(limiter, "key_w")
        writes.append(calls[("dynamodb", "UpdateItem")])
    with counting() as refused:  # the key is at its limit now (tat 200 ms ahead)
        assert [_admitted(limiter, "key_w") for _ in range(3)] == [False, False, False]

    # One write each, except where the key changed between busy and idle (two: the other branch).
    assert writes == [1, 2, 1, 1, 1, 2, 1, 2, 1]
    assert refused[("dynamodb", "UpdateItem")] == 3  # each refusal: one failed write, no read
    assert refused[("dynamodb", "GetItem")] == 0


BUSY_LIMIT = RateLimit(per_second=50, burst=100)  # the template's defaults: leases of up to 10 tokens


def _writes(limiter: RateLimiter, key: str, clock: Clock, step_ms: int, requests: int) -> tuple[int, list[bool]]:
    from bench.aws_calls import counting

    admitted = []
    with counting() as calls:
        for _ in range(requests):
            admitted.append(_admitted(limiter, key))
            clock.ms += step_ms
    return calls[("dynamodb", "UpdateItem")], admitted


def test_a_busy_key_takes_its_tokens_a_lease_at_a_time(stack: Stack) -> None:
    clock = Clock()
    limiter = RateLimiter(
        DynamoRateLimitStore(settings(StoreSettings).table_name, dynamodb_client()), BUSY_LIMIT, clock
    )

    writes, admitted = _writes(limiter, "key_busy", clock, step_ms=10, requests=100)

    assert all(admitted)
    # Leases of 1, 2, 4, 8, then 10 at a time (15 + 8 x 10 + 5: 13 leases), one failed write more when the
    # key turned from idle to busy (the other GCRA branch, as without leases).
    assert writes == 14


def test_a_key_steady_below_its_limit_costs_about_one_write_per_ten_requests(stack: Stack) -> None:
    clock = Clock()
    limiter = RateLimiter(
        DynamoRateLimitStore(settings(StoreSettings).table_name, dynamodb_client()), BUSY_LIMIT, clock
    )

    writes, admitted = _writes(limiter, "key_steady", clock, step_ms=25, requests=200)  # 40/s against 50/s

    assert all(admitted)
    assert writes == 23  # leases of 1, 2, 4, 8 (15 requests), then 19 of 10 (the last one partly used)


def test_leases_admit_exactly_the_burst_at_once_then_refuse_with_one_failed_write(stack: Stack) -> None:
    clock = Clock()
    limiter = RateLimiter(
        DynamoRateLimitStore(settings(StoreSettings).table_name, dynamodb_client()), BUSY_LIMIT, clock
    )

    _, burst = _writes(limiter, "key_burst", clock, step_ms=0, requests=100)
    refused_writes, refused = _writes(limiter, "key_burst", clock, step_ms=0, requests=3)

    assert all(burst)  # the last lease asked for 10 and got the 5 that still fit
    assert refused == [False, False, False]
    assert refused_writes == 3


def test_an_idle_key_costs_one_write_per_request_again_after_a_busy_spell(stack: Stack) -> None:
    clock = Clock()
    limiter = RateLimiter(
        DynamoRateLimitStore(settings(StoreSettings).table_name, dynamodb_client()), BUSY_LIMIT, clock
    )
    _writes(limiter, "key_calm", clock, step_ms=10, requests=40)  # holds a lease of 10 now, partly used
    clock.ms += 5000

    # Requests further apart than two validities (2 s each at these limits): each lease lapsed long before.
    writes, admitted = _writes(limiter, "key_calm", clock, step_ms=4500, requests=5)

    assert limiter.lease_ms == 2000
    assert all(admitted)
    # The old lease expired unused; each new one is a single token: one write per request, one more when
    # the key turned from busy to idle.
    assert writes == 6


def test_a_quiet_key_under_one_request_a_second_costs_one_write_per_two_requests(stack: Stack) -> None:
    """Issue 20: a key at 0.9 requests/s paid a write per request (each 1 s lease lapsed before the next
    request). A lease now lives as long as the limit takes to refill its burst (2 s at the defaults), and
    one that lapsed just now is followed by one of the size the container used: two tokens a write."""
    clock = Clock()
    limiter = RateLimiter(
        DynamoRateLimitStore(settings(StoreSettings).table_name, dynamodb_client()), BUSY_LIMIT, clock
    )

    writes, admitted = _writes(limiter, "key_quiet", clock, step_ms=1111, requests=100)

    assert all(admitted)
    assert writes == 51  # a lease of 1, then 50 of 2 (the last one half used)


def test_leases_add_at_most_one_validity_at_the_sustained_rate_however_many_containers(stack: Stack) -> None:
    """The second bound of the module docstring. Thirty containers each grow a key's lease to ten tokens
    (one after the other, the key within its limit), then, once the key has had time to refill its burst,
    all of them admit what they can at one instant: their leases and the burst. One lease per container
    would allow 300 more than the burst; a token is usable only for one validity after it was counted, so
    at most ``per_second x validity`` (100) more are admitted."""
    clock = Clock()
    table = settings(StoreSettings).table_name
    import boto3

    containers = [
        RateLimiter(DynamoRateLimitStore(table, boto3.client("dynamodb")), BUSY_LIMIT, clock) for _ in range(30)
    ]
    for container in containers:  # 16 requests: leases of 1, 2, 4, 8, then one of 10 (9 left)
        assert all(_admitted(container, "key_many") for _ in range(16))
        clock.ms += 500  # the 25 tokens it took, at 50/s: the key stays within its limit
    clock.ms += 1400  # most of the burst refilled; the last containers' leases are still valid

    at_once = 0
    for container in containers:
        while _admitted(container, "key_many"):
            at_once += 1

    assert containers[0].lease_ms == 2000  # 100 / 50 per second
    # 109 here; with leases valid for good it was 370 (the burst and 30 leases of 9).
    assert BUSY_LIMIT.burst < at_once <= BUSY_LIMIT.burst + BUSY_LIMIT.per_second * 2, at_once


def test_containers_with_leases_keep_a_key_within_its_limit_plus_one_lease_each(stack: Stack) -> None:
    """Three containers share a key sending far faster than its limit for a second: what they admit
    in total is what the limit allows, give or take the leases' unused or early-spent tokens."""
    clock = Clock()
    table = settings(StoreSettings).table_name
    import boto3

    containers = [
        RateLimiter(DynamoRateLimitStore(table, boto3.client("dynamodb")), BUSY_LIMIT, clock) for _ in range(3)
    ]
    admitted = 0
    for request in range(1000):  # one request a millisecond, round robin
        admitted += _admitted(containers[request % 3], "key_shared")
        clock.ms += 1

    allowed = BUSY_LIMIT.burst + BUSY_LIMIT.per_second  # the burst, then a second at the sustained rate
    most_over = 3 * 10  # one lease per container
    assert allowed - most_over <= admitted <= allowed + most_over, admitted


def test_a_container_remembers_a_bounded_number_of_leases(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.ratelimit import service

    monkeypatch.setattr(service, "_REMEMBERED_KEYS", 2)
    clock = Clock()
    limiter = RateLimiter(
        DynamoRateLimitStore(settings(StoreSettings).table_name, dynamodb_client()), BUSY_LIMIT, clock
    )

    for key in ("key_1", "key_2", "key_3"):
        limiter.check(key)

    assert list(limiter._leases) == ["key_2", "key_3"]


TENANT_LIMIT = RateLimit(per_second=10, burst=4)


def _limits(clock: Clock, per_key: RateLimit = LIMIT, per_tenant: RateLimit = TENANT_LIMIT) -> RateLimits:
    """What one container builds: the key's limiter and the tenant's, on one store."""
    store = DynamoRateLimitStore(settings(StoreSettings).table_name, dynamodb_client())
    return RateLimits(RateLimiter(store, per_key, clock), RateLimiter(store, per_tenant, clock, subject="tenant"))


def _passes(limits: RateLimits, key: str, tenant: str) -> bool:
    try:
        limits.check(key, tenant)
    except RateLimitedError:
        return False
    return True


def test_a_tenant_limit_holds_across_all_its_keys_and_containers(stack: Stack) -> None:
    clock = Clock()
    containers = [_limits(clock) for _ in range(2)]

    # Four keys of one tenant, each well within its own limit (three at once): the tenant's four pass.
    acme = [_passes(containers[i % 2], f"key_{i}", "acme") for i in range(6)]
    other_tenant = _passes(containers[0], "key_9", "globex")

    assert acme == [True, True, True, True, False, False]
    assert other_tenant
    item = dynamodb_client().get_item(
        TableName=settings(StoreSettings).table_name, Key={"PK": {"S": "RATE#TENANT#acme"}, "SK": {"S": "RATE"}}
    )
    assert int(item["Item"]["tat"]["N"]) == clock.ms + 4 * 100  # four requests counted on the tenant's item


def test_a_refusal_by_the_tenant_limit_names_the_tenant(stack: Stack) -> None:
    clock = Clock()
    limits = _limits(clock)
    for i in range(4):
        limits.check(f"key_{i}", "acme")

    with pytest.raises(RateLimitedError) as limited:
        limits.check("key_5", "acme")

    assert str(limited.value) == "This tenant is over its rate limit; retry after 1 s."


def test_a_key_over_its_own_limit_spends_nothing_of_its_tenants(stack: Stack) -> None:
    """One key hammering past its own limit must not use up what the tenant's other keys may send."""
    clock = Clock()
    limits = _limits(clock)

    hammering = [_passes(limits, "key_loud", "acme") for _ in range(20)]  # three pass, then its own limit
    others = [_passes(limits, "key_quiet", "acme") for _ in range(2)]

    assert hammering == [True] * 3 + [False] * 17
    assert others == [True, False]  # the tenant's fourth, then the tenant's limit


def test_a_tenant_over_its_limit_is_a_429_problem_naming_the_tenant(
    stack: Stack, mint: MintKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TENANT_RATE_LIMIT_PER_SECOND", "0.5")
    monkeypatch.setenv("TENANT_RATE_LIMIT_BURST", "2")
    reset()
    keys = [mint("acme") for _ in range(3)]
    other_tenant = mint("globex")

    answers = [call("GET", "/v1/predictions", headers=bearer(key.secret)) for key in keys]
    unaffected = call("GET", "/v1/predictions", headers=bearer(other_tenant.secret))

    assert [a["statusCode"] for a in answers] == [200, 200, 429]
    assert answers[2]["headers"]["retry-after"] == "2"
    assert response_json(answers[2])["type"] == "urn:infergate:problem:rate-limited"
    assert response_json(answers[2])["detail"] == "This tenant is over its rate limit; retry after 2 s."
    assert unaffected["statusCode"] == 200
