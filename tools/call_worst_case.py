"""The longest one AWS call can take under its policy, by botocore's own backoff: for the documentation's
timeouts table and the contract test that holds each function's ``Timeout`` to it, never for a cold start
(it builds botocore's retry internals)."""

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.retries.standard import ExponentialBackoff, RetryContext, RetryEventAdapter, ThrottlingErrorDetector

from shared.kernel.call_policies import AwsCallPolicy


def worst_case_seconds(policy: AwsCallPolicy) -> float:
    """The longest one call under ``policy`` can take before it returns or raises: every attempt waiting out
    its connect and read timeouts, and the longest wait botocore's standard mode puts between attempts (a
    throttle answered with a long ``x-amz-retry-after``), computed by botocore's own backoff."""
    backoff = ExponentialBackoff(
        random=lambda: 1.0,  # the top of the jitter
        service_name=policy.service,
        throttling_detector=ThrottlingErrorDetector(RetryEventAdapter()),
    )
    headers = HTTPHeaders()
    headers["x-amz-retry-after"] = str(3_600_000)  # an hour, in milliseconds: botocore caps the allowance
    throttled = AWSResponse("https://aws", 400, headers, None)
    waits = sum(
        backoff.delay_amount(
            RetryContext(attempt, parsed_response={"Error": {"Code": "ThrottlingException"}}, http_response=throttled)
        )
        for attempt in range(1, policy.attempts)
    )
    return policy.attempts * (policy.connect_seconds + policy.read_seconds) + waits
