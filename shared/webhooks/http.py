"""Send one webhook over HTTP without opening an SSRF hole.

The URL is checked again (``check_url``), the host name is resolved once, and every address it
resolves to must pass the address policy: one private answer refuses the whole destination, so a
name cannot mix a public and a private address and hope for the private one. The connection then
goes to the vetted address itself, so there is no second lookup an attacker's DNS could answer
differently (rebinding). TLS stays verified against the original host name (SNI and certificate),
and the original ``Host`` header is sent.

Redirects are never followed (a 3xx is just a status) and the response body is read up to 64 KiB
and thrown away.

Time (``shared.kernel.call_policies.WEBHOOK``): ``timeout_seconds`` is a deadline for the whole attempt,
from the name's lookup to the last byte read. Socket timeouts bound each read, not their sum, so a
receiver that trickles its answer a byte at a time would keep an attempt alive for as long as it likes;
a watchdog timer shuts the connection's socket down at the deadline instead, whatever the attempt is
doing then (TLS handshake, sending, reading). Connecting to one address may take ``connect_seconds`` at
most, so an address that never accepts leaves time for the next one. The lookup runs on a thread of its
own, as ``getaddrinfo`` takes no timeout. Nothing is retried here: the delivery schedule retries.
"""

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, SSLError
from urllib3.exceptions import TimeoutError as UrllibTimeoutError
from urllib3.util.ssl_match_hostname import CertificateError

from shared.kernel.call_policies import WEBHOOK
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
    """The name did not resolve, the receiver did not accept the connection, or it did not answer (all of
    it) within the time allowed."""


class DeliveryConnectionError(DeliveryError):
    """The host did not resolve, the connection failed, TLS did not verify, or the answer was not HTTP."""


class _NotConnectedError(DeliveryConnectionError):
    """Connecting to one address failed before anything was sent: the next address may be tried."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


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
    timeout_seconds: float = WEBHOOK.deadline_seconds,
    connect_seconds: float = WEBHOOK.connect_seconds,
    allow_insecure: bool = False,
    resolve: Resolver = resolve_host,
) -> DeliveryResponse:
    """POST ``body`` to ``url`` once, within ``timeout_seconds`` in all. Any status is a response; only
    failures to get one raise."""
    deadline = time.monotonic() + timeout_seconds
    try:
        destination = check_url(url, allow_insecure=allow_insecure)
    except DestinationRefusedError as exc:
        raise DestinationBlockedError(exc.reason) from None
    addresses = _vetted_addresses(destination, allow_insecure=allow_insecure, resolve=resolve, deadline=deadline)
    request_headers = {name: value for name, value in headers.items() if name.lower() != "host"}
    request_headers["Host"] = destination.host_header

    refused: _NotConnectedError | None = None
    connect_timed_out = False
    for address in addresses:
        if deadline - time.monotonic() <= 0:
            break
        try:
            return _post_to(destination, address, body, request_headers, deadline, connect_seconds, timeout_seconds)
        except _NotConnectedError as exc:
            if exc.timed_out:
                connect_timed_out = True
            else:
                refused = exc
    if refused is not None:
        raise DeliveryConnectionError(refused.reason) from None
    if connect_timed_out:
        raise DeliveryTimeoutError(f"the receiver did not accept a connection within {connect_seconds:g} seconds")
    raise DeliveryTimeoutError(_timed_out(timeout_seconds))


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


def _vetted_addresses(
    destination: Destination, *, allow_insecure: bool, resolve: Resolver, deadline: float
) -> list[IPAddress]:
    literal = destination.address
    if literal is not None:  # check_url has refused it already if it had to; no lookup for literals
        return [literal]
    addresses = _resolve_by(deadline, resolve, destination.host, destination.port)
    if not addresses:
        raise DeliveryConnectionError(f"the host name {destination.host} could not be resolved")
    for address in addresses:
        refusal = refusal_reason(address)
        if refusal is not None and not (allow_insecure and is_loopback_address(address)):
            raise DestinationBlockedError(f"the address {address} (resolved from {destination.host}) {refusal}")
    return addresses


def _resolve_by(deadline: float, resolve: Resolver, host: str, port: int) -> list[IPAddress]:
    """``resolve(host, port)``, given up at ``deadline``: the lookup runs on a thread of its own (it makes no
    AWS call, so it needs no invocation context), left to finish on its own if it is late."""
    answers: list[list[IPAddress]] = []

    def look_up() -> None:
        try:
            answers.append(resolve(host, port))
        except (OSError, UnicodeError):
            answers.append([])

    lookup = threading.Thread(target=look_up, name="webhook-dns", daemon=True)
    lookup.start()
    lookup.join(max(0.0, deadline - time.monotonic()))
    if lookup.is_alive():
        raise DeliveryTimeoutError(f"the host name {host} did not resolve in time")
    return answers[0] if answers else []


def _post_to(
    destination: Destination,
    address: IPAddress,
    body: bytes,
    headers: Mapping[str, str],
    deadline: float,
    connect_seconds: float,
    timeout_seconds: float,
) -> DeliveryResponse:
    remaining = deadline - time.monotonic()
    timeout = urllib3.Timeout(connect=min(connect_seconds, remaining), read=remaining)
    with _Watchdog(deadline) as watchdog:
        try:
            pool = _pool(destination, address, timeout, watchdog)
            return _exchange(pool, destination, body, headers, watchdog, deadline, timeout_seconds)
        except _NotConnectedError as exc:
            if exc.timed_out or not watchdog.fired:
                raise
            raise _NotConnectedError(exc.reason, timed_out=True) from None
        except DeliveryError:
            if watchdog.fired:  # whatever the socket's shutdown looked like to the code reading it
                raise DeliveryTimeoutError(_timed_out(timeout_seconds)) from None
            raise


def _exchange(
    pool: urllib3.HTTPConnectionPool,
    destination: Destination,
    body: bytes,
    headers: Mapping[str, str],
    watchdog: "_Watchdog",
    deadline: float,
    timeout_seconds: float,
) -> DeliveryResponse:
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
                if watchdog.fired:  # the head may have been cut short: an end of stream reads as its end
                    raise DeliveryTimeoutError(_timed_out(timeout_seconds))
                retry_after = parse_retry_after(response.headers.get("Retry-After"), now=utc_now())
                _discard_body(response, deadline)
            finally:
                response.close()
            return DeliveryResponse(status=response.status, retry_after_seconds=retry_after)
    except NewConnectionError:  # before ConnectTimeoutError: urllib3 derives it from that
        raise _NotConnectedError(f"could not connect to {destination.host_header}") from None
    except ConnectTimeoutError:
        raise _NotConnectedError(f"{destination.host_header} did not accept a connection", timed_out=True) from None
    except UrllibTimeoutError:
        raise DeliveryTimeoutError(_timed_out(timeout_seconds)) from None
    except SSLError as exc:
        raise DeliveryConnectionError(_tls_failure(exc, destination)) from None
    except (HTTPError, OSError, http.client.HTTPException) as exc:
        if any(isinstance(arg, TimeoutError) for arg in exc.args):  # a send that timed out
            raise DeliveryTimeoutError(_timed_out(timeout_seconds)) from None
        raise DeliveryConnectionError(f"the connection to {destination.host_header} failed") from None


class _Watchdog:
    """Shuts down, at ``deadline``, the socket of every connection made while it is armed (``with``).

    A duplicate of each socket's descriptor is kept until the watchdog is disarmed, so the shutdown reaches
    the right socket even after its connection was closed (a closed descriptor's number may be reused), and
    ``shutdown`` rather than ``close`` makes a read or write blocked on another thread return at once.
    """

    def __init__(self, deadline: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._disarmed = False
        self.fired = False
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Self:
        self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._timer.cancel()
        with self._lock:
            self._disarmed = True
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def watch(self, sock: socket.socket) -> None:
        duplicate = sock.dup()
        with self._lock:
            self._sockets.append(duplicate)
            if self.fired:
                _shut_down(duplicate)

    def _fire(self) -> None:
        with self._lock:
            if self._disarmed:
                return
            self.fired = True
            for sock in self._sockets:
                _shut_down(sock)


def _shut_down(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already shut by the peer
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedHTTPConnection(HTTPConnection):
    """A plain connection whose socket the attempt's watchdog watches from the moment it is connected."""

    def __init__(self, *args: Any, watchdog: _Watchdog, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watchdog = watchdog

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self._watchdog.watch(sock)
        return sock


class _WatchedHTTPSConnection(_WatchedHTTPConnection, HTTPSConnection):
    """A TLS connection watched the same way, so from before its handshake (a receiver may trickle that too)."""


def _pool(
    destination: Destination, address: IPAddress, timeout: urllib3.Timeout, watchdog: _Watchdog
) -> urllib3.HTTPConnectionPool:
    """A one-connection pool to the vetted address itself; the original host is only for TLS and Host."""
    pool: urllib3.HTTPConnectionPool
    if destination.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            str(address),
            destination.port,
            timeout=timeout,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ssl_context=_tls_context(),
            server_hostname=destination.host,
            assert_hostname=destination.host,
            watchdog=watchdog,
        )
        pool.ConnectionCls = _WatchedHTTPSConnection
        return pool
    pool = urllib3.HTTPConnectionPool(str(address), destination.port, timeout=timeout, retries=False, watchdog=watchdog)
    pool.ConnectionCls = _WatchedHTTPConnection
    return pool


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
