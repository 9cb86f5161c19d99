"""The table "Timeouts and retries" of ``docs/architecture.md``, rendered from the code that applies the numbers.

Every row reads its figures from where they take effect: the AWS call policies (``shared.kernel.call_policies``,
the worst case computed by ``tools.call_worst_case``, whose backoff is botocore's own), the webhook policy and
retry schedule (``shared.webhooks``), and the client library's defaults (``infergate``). ``make openapi`` writes
it (``tools.derived``) and ``tests/contract/test_derived.py`` fails when the committed table is stale.
"""

from botocore.endpoint import DEFAULT_TIMEOUT as BOTOCORE_DEFAULT_TIMEOUT
from infergate import _config as client_config
from infergate import _retry as client_retry
from infergate import admin as client_admin

from shared.kernel.call_policies import AWS_POLICIES, S3, S3_DOWNLOAD_ATTEMPTS, TRACE_EXPORT, WEBHOOK
from shared.webhooks.schedule import MAX_DELAY_SECONDS, RetrySchedule
from tools.call_worst_case import worst_case_seconds
from tools.template import Template

TIMEOUTS_START = "<!-- timeouts table: generated from shared/kernel/call_policies.py by `make openapi`, do not edit -->"
TIMEOUTS_END = "<!-- end of the generated timeouts table -->"
HEADER = ("Call", "Connect", "Read (silence)", "Total, worst case", "Retry mode", "Attempts", "Why")


def timeouts_table(template: Template) -> str:
    rows = [_row(*HEADER), "|" + "---|" * len(HEADER)]
    for policy in AWS_POLICIES:
        rows.append(
            _row(
                policy.calls,
                _seconds(policy.connect_seconds),
                _seconds(policy.read_seconds),
                _seconds(worst_case_seconds(policy)),
                f"botocore `{policy.retry_mode}`",
                str(policy.attempts),
                policy.why,
            )
        )
    rows.append(
        _row(
            "S3 downloads through s3transfer (model artifacts, `download_file`)",
            _seconds(S3.connect_seconds),
            _seconds(S3.read_seconds),
            "none: as long as bytes keep coming",
            "s3transfer re-reads a part whose body broke off",
            f"{S3_DOWNLOAD_ATTEMPTS} per part, each an S3 call as above",
            "an artifact of up to 100 MiB takes as long as its size needs; a stalled part fails after the read timeout",
        )
    )
    rows.append(
        _row(
            "S3 presigned URLs (upload PUTs, batch and file GETs)",
            "-",
            "-",
            "-",
            "-",
            "0",
            "signed locally with the function's credentials: no network call",
        )
    )
    schedule = RetrySchedule()
    delays = ", ".join(_duration(delay) for delay in schedule.delays)
    rows.append(
        _row(
            "Webhook POST to a receiver (DeliverWebhooks, `shared/webhooks/http.py`)",
            f"{_seconds(WEBHOOK.connect_seconds)} per address",
            "until the deadline",
            f"{_seconds(WEBHOOK.deadline_seconds)}: a deadline from the DNS lookup to the last byte",
            "none in the call; the delivery schedule (SQS visibility)",
            str(schedule.attempts),
            f"retried after {delays} (+ up to {schedule.jitter:.0%} jitter; a longer `Retry-After` honoured up to "
            f"{_duration(MAX_DELAY_SECONDS)}); `410` stops; then `WebhooksDLQ`. A watchdog ends a receiver that "
            "trickles its answer",
        )
    )
    rows.append(
        _row(
            "Trace export, OTLP/HTTP (`Tracing=On` only; `shared/adapters/tracing.py`)",
            "within the deadline",
            "within the deadline",
            f"{_seconds(TRACE_EXPORT.deadline_seconds)}: the exporter's deadline, its retries included",
            "the OpenTelemetry exporter's (backoff on 429/5xx, one at once after a dropped connection)",
            "as many as fit",
            "one export per invocation, before the handler answers (Lambda freezes the process after); a backend "
            "that is down costs each invocation at most this, and its spans are dropped, never the request",
        )
    )
    timeout = client_config.DEFAULT_TIMEOUT
    rows.append(
        _row(
            "Client library (`client/`, httpx) to the API",
            _seconds(timeout.connect),
            _seconds(timeout.read),
            "a call's own `timeout` for `run`/`wait`",
            "own (`client/src/infergate/_retry.py`)",
            str(client_config.DEFAULT_MAX_RETRIES + 1),
            f"backoff {client_retry.BASE_DELAY:g}-{client_retry.MAX_BACKOFF:g} s, `Retry-After` up to "
            f"{client_retry.MAX_RETRY_AFTER:g} s; 429 and refused connections always, 502/503/504 and lost answers "
            "only for replayable calls (not the library's policy to set here)",
        )
    )
    rows.append(
        _row(
            "`infergate admin` (client, boto3) invoking RunAdminCommand",
            f"{_seconds(BOTOCORE_DEFAULT_TIMEOUT)} (botocore's default)",
            _seconds(client_admin.INVOKE_READ_TIMEOUT),
            "-",
            "-",
            "1",
            f"outlasts the function's {_seconds(template.function('RunAdminCommandFunction').timeout)}; a second "
            "mint or redrive must not run beside the first",
        )
    )
    return "\n".join(rows) + "\n"


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _seconds(value: float | None) -> str:
    return "none" if value is None else f"{value:g} s"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:.4g} h"
