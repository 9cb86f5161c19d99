"""Send one webhook over HTTP without opening an SSRF hole.

The URL is checked again (``check_url``), the host name is resolved once, and every address it
resolves to must pass the address policy: one private answer refuses the whole destination, so a
name cannot mix a public and a private address and hope for the private one. The connection then
goes to the vetted address itself, so there is no second lookup an attacker's DNS could answer
differently (rebinding). TLS stays verified against the original host name (SNI and certificate),
and the original ``Host`` header is sent.

Redirects are never followed (a 3xx is just a status) and the response body is read up to 64 KiB
and thrown away. ``timeout_seconds`` bounds connecting plus waiting for the answer; as with any
socket-level timeout, a receiver that drip-feeds its response headers can stretch the wait, so the
function's own timeout remains the backstop.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, SSLError
from urllib3.exceptions import TimeoutError as UrllibTimeoutError
from urllib3.util.ssl_match_hostname import CertificateError

from shared.kernel.clock import utc_now
from shared.kernel.webhook_urls import (
    Destination,
    DestinationRefusedError,
    IPAddress,
    check_url,
    is_loopback_address,
    refusal_reason,
)
from shared.webhooks.models import DeliveryError

MAX_RESPONSE_BYTES = 64 * 1024

Resolver = Callable[[str, int], list[IPAddress]]


@dataclass(frozen=True)
class DeliveryResponse:
    status: int
    retry_after_seconds: float | None


class DestinationBlockedError(DeliveryError):
    """The URL or an address it resolves to is refused by policy. Nothing was sent; retry no faster
    than any other failure (DNS may legitimately change, but a refused address must not be hammered)."""


class DeliveryTimeoutError(DeliveryError):
    """The receiver did not accept the connection or answer within the timeout."""


class DeliveryConnectionError(DeliveryError):
    """The host did not resolve, the connection failed, TLS did not verify, or the answer was not HTTP."""


class _NotConnectedError(DeliveryConnectionError):
    """Connecting to one address failed before anything was sent: the next address may be tried."""


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to for TCP, in the resolver's order, without duplicates."""
    addresses: list[IPAddress] = []
    for family, _, _, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]))
        if address not in addresses:
            addresses.append(address)
    return addresses


def post_webhook(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    timeout_seconds: float = 10.0,
    allow_insecure: bool = False,
    resolve: Resolver = resolve_host,
) -> DeliveryResponse:
    """POST ``body`` to ``url`` once. Any status is a response; only failures to get one raise."""
    try:
        destination = check_url(url, allow_insecure=allow_insecure)
    except DestinationRefusedError as exc:
        raise DestinationBlockedError(exc.reason) from None
    addresses = _vetted_addresses(destination, allow_insecure=allow_insecure, resolve=resolve)
    request_headers = {name: value for name, value in headers.items() if name.lower() != "host"}
    request_headers["Host"] = destination.host_header

    deadline = time.monotonic() + timeout_seconds
    failure: DeliveryConnectionError | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            return _post_to(destination, address, body, request_headers, remaining, deadline, timeout_seconds)
        except _NotConnectedError as exc:
            failure = exc
    if failure is None:
        raise DeliveryTimeoutError(_timed_out(timeout_seconds))
    raise DeliveryConnectionError(failure.reason) from None


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date), at least 0."""
    if value is None:
        return None
    text = value.strip()
    try:
        if text.isascii() and text.isdigit():
            return float(int(text))
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC by RFC 5322, but parsed as naive
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def _vetted_addresses(destination: Destination, *, allow_insecure: bool, resolve: Resolver) -> list[IPAddress]:
    literal = destination.address
    if literal is not None:  # check_url has refused it already if it had to; no lookup for literals
        return [literal]
    try:
        addresses = resolve(destination.host, destination.port)
    except (OSError, UnicodeError):
        addresses = []
    if not addresses:
        raise DeliveryConnectionError(f"the host name {destination.host} could not be resolved")
    for address in addresses:
        refusal = refusal_reason(address)
        if refusal is not None and not (allow_insecure and is_loopback_address(address)):
            raise DestinationBlockedError(f"the address {address} (resolved from {destination.host}) {refusal}")
    return addresses


def _post_to(
    destination: Destination,
    address: IPAddress,
    body: bytes,
    headers: Mapping[str, str],
    remaining: float,
    deadline: float,
    timeout_seconds: float,
) -> DeliveryResponse:
    pool = _pool(destination, address, urllib3.Timeout(total=remaining))
    try:
        with pool:
            response = pool.urlopen(
                "POST",
                destination.path_and_query,
                body=body,
                headers=headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
            )
            try:
                retry_after = parse_retry_after(response.headers.get("Retry-After"), now=utc_now())
                _discard_body(response, deadline)
            finally:
                response.close()
            return DeliveryResponse(status=response.status, retry_after_seconds=retry_after)
    except NewConnectionError:  # before the timeout branch: urllib3 derives it from ConnectTimeoutError
        raise _NotConnectedError(f"could not connect to {destination.host_header}") from None
    except UrllibTimeoutError:
        raise DeliveryTimeoutError(_timed_out(timeout_seconds)) from None
    except SSLError as exc:
        raise DeliveryConnectionError(_tls_failure(exc, destination)) from None
    except (HTTPError, OSError, http.client.HTTPException) as exc:
        if any(isinstance(arg, TimeoutError) for arg in exc.args):  # a send that timed out
            raise DeliveryTimeoutError(_timed_out(timeout_seconds)) from None
        raise DeliveryConnectionError(f"the connection to {destination.host_header} failed") from None


def _pool(destination: Destination, address: IPAddress, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    """A one-connection pool to the vetted address itself; the original host is only for TLS and Host."""
    if destination.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            str(address),
            destination.port,
            timeout=timeout,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ssl_context=_tls_context(),
            server_hostname=destination.host,
            assert_hostname=destination.host,
        )
    return urllib3.HTTPConnectionPool(str(address), destination.port, timeout=timeout, retries=False)


def _tls_context() -> ssl.SSLContext:
    """The system's trust store with certificate and host name verification on (no CN fallback)."""
    context = ssl.create_default_context()
    context.hostname_checks_common_name = False
    return context


def _discard_body(response: urllib3.BaseHTTPResponse, deadline: float) -> None:
    """Read at most ``MAX_RESPONSE_BYTES`` and drop them; the status is what counts, so errors are ignored."""
    received = 0
    while received < MAX_RESPONSE_BYTES and time.monotonic() < deadline:
        try:
            chunk = response.read1(MAX_RESPONSE_BYTES - received)
        except (HTTPError, OSError, http.client.HTTPException):
            return
        if not chunk:
            return
        received += len(chunk)


def _tls_failure(exc: SSLError, destination: Destination) -> str:
    if any(isinstance(arg, ssl.SSLCertVerificationError | CertificateError) for arg in exc.args):
        return f"the TLS certificate of {destination.host} could not be verified"
    return f"the TLS handshake with {destination.host_header} failed"


def _timed_out(seconds: float) -> str:
    return f"the receiver did not answer within {seconds:g} seconds"
