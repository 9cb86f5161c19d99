"""The webhook sender: vetted addresses only, no redirects, bounded time, TLS verified.

Only loopback is ever contacted: an autouse guard makes any other ``connect`` fail the test, and
refusals are proven by making every connection attempt an error.
"""

import contextlib
import datetime
import ipaddress
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import urllib3.util.connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.kernel.webhook_urls import IPAddress
from shared.webhooks.http import (
    DeliveryConnectionError,
    DeliveryResponse,
    DeliveryTimeoutError,
    DestinationBlockedError,
    parse_retry_after,
    post_webhook,
    resolve_host,
)

LOOPBACK = ipaddress.ip_address("127.0.0.1")
PUBLIC = ipaddress.ip_address("93.184.216.34")


# ---------------------------------------------------------------------------------------------
# Guards: nothing but loopback, and "no connection at all" where a refusal is expected


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and not ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback:
            raise AssertionError(f"a test tried to connect to {address[0]}")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@dataclass
class ConnectionAttempts:
    count: int = 0


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> ConnectionAttempts:
    """Every connection attempt is counted and fails the test."""
    attempts = ConnectionAttempts()

    def refuse(*args: Any, **kwargs: Any) -> socket.socket:
        attempts.count += 1
        raise AssertionError("no connection may be attempted")

    def refuse_connect(sock: socket.socket, address: Any) -> None:
        refuse()

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    return attempts


class FakeResolver:
    def __init__(self, *addresses: str, error: OSError | None = None) -> None:
        self.addresses = [ipaddress.ip_address(a) for a in addresses]
        self.error = error
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append((host, port))
        if self.error is not None:
            raise self.error
        return list(self.addresses)


# ---------------------------------------------------------------------------------------------
# A local receiver


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hold: bool = False  # answer only when the test ends (a receiver slower than any timeout)
    stall_after: int | None = None  # send this many body bytes, then nothing until the test ends
    hang_up: bool = False  # close the connection without answering


class Receiver:
    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.reply = Reply()
        self.seen: list[Seen] = []
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.seen.append(Seen(self.path, dict(self.headers.items()), body))
                reply = receiver.reply
                if reply.hold:
                    receiver.released.wait(timeout=10)
                if reply.hang_up:
                    self.close_connection = True
                    return
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body[: reply.stall_after])
                    if reply.stall_after is not None:
                        self.wfile.flush()
                        receiver.released.wait(timeout=10)
                except OSError:
                    pass  # the client gave up (timeout test) or stopped reading (size limit test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.server = Server((host, 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port: int = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def start(host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> Receiver:
        started.append(Receiver(host, tls))
        return started[-1]

    yield start
    for receiver in started:
        receiver.close()


@pytest.fixture
def receiver(receivers: Callable[..., Receiver]) -> Receiver:
    return receivers()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# ---------------------------------------------------------------------------------------------
# (a) names that resolve to non-public addresses: refused, never connected


@pytest.mark.parametrize(
    ("addresses", "refused"),
    [
        (["10.0.0.5"], "the address 10.0.0.5 (resolved from hooks.example.com) is private"),
        (["93.184.216.34", "127.0.0.1"], "the address 127.0.0.1 (resolved from hooks.example.com) is loopback"),
        (["169.254.169.254"], "the address 169.254.169.254 (resolved from hooks.example.com) is a cloud metadata"),
        (["2606:4700::1111", "fd00:ec2::254"], "the address fd00:ec2::254 (resolved from hooks.example.com) is a"),
        (["::ffff:192.168.0.1"], "embeds 192.168.0.1, which is private"),
        (["100.64.0.1", "93.184.216.34"], "the address 100.64.0.1 (resolved from hooks.example.com) is shared"),
    ],
)
def test_a_name_resolving_to_any_non_public_address_is_blocked_without_connecting(
    addresses: list[str], refused: str, no_connections: ConnectionAttempts
) -> None:
    # Given a public-looking name whose DNS answer includes a non-public address
    resolve = FakeResolver(*addresses)

    # When the webhook is sent
    with pytest.raises(DestinationBlockedError) as blocked:
        post_webhook("https://hooks.example.com/hook", b"{}", {}, resolve=resolve)

    # Then it is blocked with a reason, after one lookup and without any connection attempt
    assert refused in blocked.value.reason
    assert resolve.calls == [("hooks.example.com", 443)]
    assert no_connections.count == 0


@pytest.mark.parametrize("addresses", [["10.0.0.5"], ["127.0.0.1", "169.254.169.254"], ["192.168.1.20"]])
def test_allow_insecure_admits_loopback_answers_but_not_private_ones(
    addresses: list[str], no_connections: ConnectionAttempts
) -> None:
    # Given local development and a name that resolves to a private or metadata address
    resolve = FakeResolver(*addresses)

    # When the webhook is sent
    with pytest.raises(DestinationBlockedError) as blocked:
        post_webhook("http://receiver.localhost:8080/hook", b"{}", {}, allow_insecure=True, resolve=resolve)

    # Then it is still blocked, without any connection attempt
    assert "(resolved from receiver.localhost)" in blocked.value.reason
    assert no_connections.count == 0


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/hook", "webhook URLs must use https"),
        ("https://169.254.169.254/latest/meta-data/", "the address 169.254.169.254 is a cloud metadata service"),
        ("https://[::ffff:10.0.0.1]/hook", "embeds 10.0.0.1, which is private"),
        ("https://2130706433/hook", "the address 127.0.0.1 is loopback"),
        ("https://user:secret@hooks.example.com/hook", "webhook URLs must not contain a user name or password"),
    ],
)
def test_refused_urls_are_blocked_before_any_lookup_or_connection(
    url: str, reason: str, no_connections: ConnectionAttempts
) -> None:
    # Given a URL that check_url refuses (a stored URL is checked again at delivery time)
    resolve = FakeResolver("93.184.216.34")

    # When the webhook is sent without allow_insecure
    with pytest.raises(DestinationBlockedError) as blocked:
        post_webhook(url, b"{}", {}, resolve=resolve)

    # Then it is blocked before any lookup or connection
    assert reason in blocked.value.reason
    assert "secret" not in str(blocked.value)
    assert resolve.calls == []
    assert no_connections.count == 0


@pytest.mark.parametrize("error", [socket.gaierror(socket.EAI_NONAME, "Name or service not known"), None])
def test_a_name_that_does_not_resolve_is_a_connection_error(
    error: OSError | None, no_connections: ConnectionAttempts
) -> None:
    # Given a name with no addresses
    resolve = FakeResolver(error=error)

    # When the webhook is sent
    with pytest.raises(DeliveryConnectionError) as failed:
        post_webhook("https://nowhere.example.com/hook", b"{}", {}, resolve=resolve)

    # Then it is a connection error that names the host, and nothing was connected
    assert failed.value.reason == "the host name nowhere.example.com could not be resolved"
    assert no_connections.count == 0


# ---------------------------------------------------------------------------------------------
# (b) a real local receiver (allow_insecure)


def test_a_2xx_is_returned_and_the_request_is_as_sent(receiver: Receiver) -> None:
    # Given a local receiver reached through a name
    resolve = FakeResolver("127.0.0.1")

    # When a webhook is sent with a caller-supplied (and forged) Host header
    response = post_webhook(
        f"http://receiver.localhost:{receiver.port}/hooks/in?tenant=acme",
        b'{"type":"prediction.completed"}',
        {"Content-Type": "application/json", "Webhook-Id": "msg_1", "host": "evil.example"},
        allow_insecure=True,
        resolve=resolve,
    )

    # Then the status comes back, and the receiver got the path, body, headers and the original Host
    assert response == DeliveryResponse(status=200, retry_after_seconds=None)
    [seen] = receiver.seen
    assert seen.path == "/hooks/in?tenant=acme"
    assert seen.body == b'{"type":"prediction.completed"}'
    assert seen.headers["Host"] == f"receiver.localhost:{receiver.port}"
    assert (seen.headers["Content-Type"], seen.headers["Webhook-Id"]) == ("application/json", "msg_1")
    assert resolve.calls == [("receiver.localhost", receiver.port)]


def test_the_default_resolver_reaches_localhost(receiver: Receiver) -> None:
    # Given the real resolver and "localhost" (which may answer ::1 first; the receiver is on 127.0.0.1)
    # When a webhook is sent to it
    response = post_webhook(f"http://localhost:{receiver.port}/hook", b"{}", {}, allow_insecure=True)

    # Then it arrives with the original Host header
    assert response.status == 200
    assert [seen.headers["Host"] for seen in receiver.seen] == [f"localhost:{receiver.port}"]


def test_resolve_host_returns_each_address_once() -> None:
    addresses = resolve_host("localhost", 80)

    assert addresses
    assert all(address.is_loopback for address in addresses)
    assert len(set(addresses)) == len(addresses)


def test_an_ipv6_loopback_literal_is_reached_directly(receivers: Callable[..., Receiver]) -> None:
    # Given a receiver on ::1
    receiver = receivers("::1")

    # When a webhook is sent to the literal (no lookup happens for literals)
    resolve = FakeResolver()
    response = post_webhook(f"http://[::1]:{receiver.port}/hook", b"{}", {}, allow_insecure=True, resolve=resolve)

    # Then it arrives with the bracketed Host header
    assert response.status == 200
    assert [seen.headers["Host"] for seen in receiver.seen] == [f"[::1]:{receiver.port}"]
    assert resolve.calls == []


def test_a_redirect_to_the_metadata_service_is_returned_not_followed(receiver: Receiver) -> None:
    # Given a receiver that redirects to the metadata service (any connection there fails the test)
    receiver.reply = Reply(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    # When a webhook is sent
    response = post_webhook(f"http://127.0.0.1:{receiver.port}/hook", b"{}", {}, allow_insecure=True)

    # Then the 302 is the result and the receiver saw exactly one request
    assert response.status == 302
    assert len(receiver.seen) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_receiver_is_not_followed(status: int, receivers: Callable[..., Receiver]) -> None:
    # Given a receiver that redirects to a second receiver standing in for the redirect target
    target = receivers()
    receiver = receivers()
    receiver.reply = Reply(status=status, headers={"Location": f"http://127.0.0.1:{target.port}/stolen"})

    # When a webhook is sent
    response = post_webhook(f"http://127.0.0.1:{receiver.port}/hook", b"{}", {}, allow_insecure=True)

    # Then the redirect status is returned, and the target received nothing
    assert response.status == status
    assert len(receiver.seen) == 1
    assert target.seen == []


def test_retry_after_of_a_503_is_parsed(receiver: Receiver) -> None:
    # Given a receiver that is unavailable and asks for 7 seconds
    receiver.reply = Reply(status=503, headers={"Retry-After": "7"})

    # When a webhook is sent
    response = post_webhook(f"http://127.0.0.1:{receiver.port}/hook", b"{}", {}, allow_insecure=True)

    # Then the status and the delay come back
    assert response == DeliveryResponse(status=503, retry_after_seconds=7.0)


def test_a_receiver_slower_than_the_timeout_is_a_timeout(receiver: Receiver) -> None:
    # Given a receiver that does not answer until the test ends
    receiver.reply = Reply(hold=True)
    started = time.monotonic()

    # When a webhook is sent with a short timeout
    with pytest.raises(DeliveryTimeoutError) as timed_out:
        post_webhook(f"http://127.0.0.1:{receiver.port}/hook", b"{}", {}, timeout_seconds=0.5, allow_insecure=True)

    # Then it times out, in about the timeout
    assert timed_out.value.reason == "the receiver did not answer within 0.5 seconds"
    assert time.monotonic() - started < 5
    assert len(receiver.seen) == 1


def test_a_closed_port_is_a_connection_error() -> None:
    # Given a port nothing listens on
    port = _closed_port()

    # When a webhook is sent there
    with pytest.raises(DeliveryConnectionError) as failed:
        post_webhook(f"http://127.0.0.1:{port}/hook", b"{}", {}, allow_insecure=True)

    # Then it is a connection error with a safe reason
    assert failed.value.reason == f"could not connect to 127.0.0.1:{port}"


def test_a_receiver_that_hangs_up_without_answering_is_a_connection_error(receiver: Receiver) -> None:
    # Given a receiver that reads the request and closes the connection
    receiver.reply = Reply(hang_up=True)

    # When a webhook is sent
    with pytest.raises(DeliveryConnectionError) as failed:
        post_webhook(f"http://127.0.0.1:{receiver.port}/hook", b"{}", {}, allow_insecure=True)

    # Then it is a connection error (and the one address is not tried twice: the request was sent)
    assert failed.value.reason == f"the connection to 127.0.0.1:{receiver.port} failed"
    assert len(receiver.seen) == 1


def test_no_time_left_is_a_timeout_without_connecting(no_connections: ConnectionAttempts) -> None:
    # Given a delivery with no time budget
    # When it is sent
    with pytest.raises(DeliveryTimeoutError):
        post_webhook("https://93.184.216.34/hook", b"{}", {}, timeout_seconds=0)

    # Then nothing was connected
    assert no_connections.count == 0


def test_every_vetted_address_is_tried_when_connecting_fails(receiver: Receiver) -> None:
    # Given a name whose first address refuses connections and whose second is the receiver
    resolve = FakeResolver("::1", "127.0.0.1")
    with socket.socket(socket.AF_INET6) as probe:  # make sure nothing listens on ::1 at that port
        probe.bind(("::1", receiver.port))

        # When a webhook is sent
        response = post_webhook(
            f"http://localhost:{receiver.port}/hook", b"{}", {}, allow_insecure=True, resolve=resolve
        )

    # Then the second address receives it
    assert response.status == 200
    assert len(receiver.seen) == 1


def test_only_the_first_64_kib_of_the_body_are_read(receiver: Receiver) -> None:
    # Given a receiver that announces 1 MiB of body but sends only 100 KiB and then stalls
    receiver.reply = Reply(status=200, body=b"x" * (1024 * 1024), stall_after=100 * 1024)

    # When a webhook is sent
    started = time.monotonic()
    response = post_webhook(f"http://127.0.0.1:{receiver.port}/hook", b"{}", {}, timeout_seconds=5, allow_insecure=True)

    # Then the answer comes back without waiting for the rest of the body (or the 5 s timeout)
    assert response.status == 200
    assert time.monotonic() - started < 2.5


# ---------------------------------------------------------------------------------------------
# (c) time: one deadline for the whole attempt, whatever the receiver does


class RawReceiver:
    """A listening socket on loopback whose every accepted connection is given to ``serve`` on a thread."""

    def __init__(self, serve: Callable[[socket.socket, threading.Event], None], host: str = "127.0.0.1") -> None:
        self.stop = threading.Event()
        self.listener = socket.socket()
        self.listener.bind((host, 0))
        self.listener.listen(8)
        self.listener.settimeout(0.05)
        self.port: int = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, args=(serve,), daemon=True)
        self.thread.start()

    def _accept(self, serve: Callable[[socket.socket, threading.Event], None]) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection, contextlib.suppress(OSError):  # OSError: the client gave up
                serve(connection, self.stop)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def raw_receivers() -> Iterator[Callable[..., RawReceiver]]:
    started: list[RawReceiver] = []

    def start(serve: Callable[[socket.socket, threading.Event], None]) -> RawReceiver:
        started.append(RawReceiver(serve))
        return started[-1]

    yield start
    for raw in started:
        raw.close()


def trickle_the_head(connection: socket.socket, stop: threading.Event) -> None:
    """Read the request, then send the answer's head one byte every 50 ms, for up to 8 s."""
    connection.recv(65536)
    connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    ends = time.monotonic() + 8
    while not stop.wait(0.05) and time.monotonic() < ends:
        connection.sendall(b"a")


def accept_and_stay_silent(connection: socket.socket, stop: threading.Event) -> None:
    """Neither read the request nor answer it, until the test ends."""
    stop.wait(8)


class NeverAccepting:
    """A port whose accept queue is full: the kernel drops further SYNs, so connecting hangs until it times out."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.listener = socket.socket()
        self.listener.bind((host, port))
        self.listener.listen(0)
        self.port: int = self.listener.getsockname()[1]
        self.fillers: list[socket.socket] = []
        for _ in range(4):  # the first fills the queue (backlog 0 keeps one); the others wait in SYN_SENT
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex((host, self.port))
            self.fillers.append(filler)
        time.sleep(0.1)  # the queued ones complete their handshake on loopback at once
        with socket.socket() as probe:
            probe.setblocking(False)
            probe.connect_ex((host, self.port))
            _, writable, _ = select.select([], [probe], [], 0.3)
        if writable:
            self.close()
            pytest.skip("this kernel accepts connections past a full accept queue")

    def close(self) -> None:
        for filler in self.fillers:
            filler.close()
        self.listener.close()


@pytest.fixture
def never_accepting() -> Iterator[Callable[..., NeverAccepting]]:
    started: list[NeverAccepting] = []

    def start(host: str = "127.0.0.1", port: int = 0) -> NeverAccepting:
        started.append(NeverAccepting(host, port))
        return started[-1]

    yield start
    for port in started:
        port.close()


@pytest.mark.parametrize(
    "behaviour",
    [trickle_the_head, accept_and_stay_silent],
    ids=["trickles its answer's head a byte at a time", "accepts and never reads or answers"],
)
def test_a_receiver_that_holds_the_attempt_is_cut_off_at_the_deadline(
    raw_receivers: Callable[..., RawReceiver], behaviour: Callable[..., None]
) -> None:
    # Given a receiver that never lets a read time out (it trickles), or never answers at all
    raw = raw_receivers(behaviour)
    started = time.monotonic()

    # When a webhook is sent with a 1 s deadline
    with pytest.raises(DeliveryTimeoutError) as timed_out:
        post_webhook(f"http://127.0.0.1:{raw.port}/hook", b"{}", {}, timeout_seconds=1, allow_insecure=True)

    # Then the attempt ends at the deadline, not when the receiver stops (the trickle lasts 8 s)
    elapsed = time.monotonic() - started
    assert timed_out.value.reason == "the receiver did not answer within 1 seconds"
    assert 0.9 < elapsed < 2.5


def test_a_receiver_that_never_accepts_times_out_after_the_connect_timeout(
    never_accepting: Callable[..., NeverAccepting],
) -> None:
    # Given a port whose accept queue is full
    port = never_accepting().port
    started = time.monotonic()

    # When a webhook is sent with a 0.5 s connect timeout within a 5 s deadline
    with pytest.raises(DeliveryTimeoutError) as timed_out:
        post_webhook(
            f"http://127.0.0.1:{port}/hook", b"{}", {}, timeout_seconds=5, connect_seconds=0.5, allow_insecure=True
        )

    # Then connecting is given up after the connect timeout, not the whole deadline
    assert timed_out.value.reason == "the receiver did not accept a connection within 0.5 seconds"
    assert time.monotonic() - started < 2.5


def test_an_address_that_never_accepts_leaves_time_for_the_next(
    receiver: Receiver, never_accepting: Callable[..., NeverAccepting]
) -> None:
    # Given a name whose first address never accepts and whose second is the receiver, on the same port
    never_accepting("127.0.0.2", receiver.port)
    resolve = FakeResolver("127.0.0.2", "127.0.0.1")

    # When a webhook is sent with a 0.5 s connect timeout within a 5 s deadline
    response = post_webhook(
        f"http://localhost:{receiver.port}/hook",
        b"{}",
        {},
        timeout_seconds=5,
        connect_seconds=0.5,
        allow_insecure=True,
        resolve=resolve,
    )

    # Then the second address receives it
    assert response.status == 200
    assert len(receiver.seen) == 1


def test_a_lookup_that_hangs_is_given_up_at_the_deadline(no_connections: ConnectionAttempts) -> None:
    # Given a name whose lookup does not answer for 8 s
    answered = threading.Event()

    def hanging(host: str, port: int) -> list[IPAddress]:
        answered.wait(8)
        return [PUBLIC]

    started = time.monotonic()

    # When a webhook is sent to it with a 0.5 s deadline
    try:
        with pytest.raises(DeliveryTimeoutError) as timed_out:
            post_webhook("https://hooks.example.com/hook", b"{}", {}, timeout_seconds=0.5, resolve=hanging)
    finally:
        answered.set()

    # Then it times out at the deadline, without connecting anywhere
    assert timed_out.value.reason == "the host name hooks.example.com did not resolve in time"
    assert time.monotonic() - started < 2
    assert no_connections.count == 0


# ---------------------------------------------------------------------------------------------
# (d) TLS: verification is on, for the original host name


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


@pytest.fixture(scope="module")
def localhost_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for the DNS name "localhost" only (no IP address)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Certificate(cert_file, key_file)


@pytest.fixture
def trust_test_certificate(monkeypatch: pytest.MonkeyPatch, localhost_certificate: Certificate) -> None:
    """The system trust store plus the test certificate, as if a public CA had issued it."""
    system_default = ssl.create_default_context

    def with_test_certificate(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = system_default(*args, **kwargs)
        context.load_verify_locations(cafile=localhost_certificate.cert_file)
        return context

    monkeypatch.setattr(ssl, "create_default_context", with_test_certificate)


def test_an_untrusted_certificate_fails_verification(
    receivers: Callable[..., Receiver], localhost_certificate: Certificate
) -> None:
    # Given an https receiver with a self-signed certificate nobody trusts
    receiver = receivers(tls=localhost_certificate.server_context())

    # When a webhook is sent to it
    with pytest.raises(DeliveryConnectionError) as failed:
        post_webhook(f"https://localhost:{receiver.port}/hook", b"{}", {}, allow_insecure=True)

    # Then verification fails and nothing was delivered
    assert failed.value.reason == "the TLS certificate of localhost could not be verified"
    assert receiver.seen == []


def test_a_receiver_that_does_not_speak_tls_fails_the_handshake(receiver: Receiver) -> None:
    # Given a plain-HTTP receiver
    # When a webhook is sent to it over https
    with pytest.raises(DeliveryConnectionError) as failed:
        post_webhook(f"https://127.0.0.1:{receiver.port}/hook", b"{}", {}, allow_insecure=True)

    # Then the handshake fails and nothing was delivered
    assert failed.value.reason == f"the TLS handshake with 127.0.0.1:{receiver.port} failed"
    assert receiver.seen == []


@pytest.mark.usefixtures("trust_test_certificate")
def test_a_trusted_certificate_is_verified_against_the_original_host_name(
    receivers: Callable[..., Receiver], localhost_certificate: Certificate
) -> None:
    # Given a trusted certificate for "localhost", and the name resolved to the loopback address
    receiver = receivers(tls=localhost_certificate.server_context())
    resolve = FakeResolver("127.0.0.1")

    # When a webhook is sent to the name
    response = post_webhook(f"https://localhost:{receiver.port}/hook", b"{}", {}, allow_insecure=True, resolve=resolve)

    # Then TLS verifies for the name although the connection went to the address
    assert response.status == 200
    assert [seen.headers["Host"] for seen in receiver.seen] == [f"localhost:{receiver.port}"]


@pytest.mark.usefixtures("trust_test_certificate")
def test_a_trusted_certificate_for_another_name_fails_verification(
    receivers: Callable[..., Receiver], localhost_certificate: Certificate
) -> None:
    # Given a trusted certificate that is for "localhost" only
    receiver = receivers(tls=localhost_certificate.server_context())

    # When a webhook is sent to the address instead of the name
    with pytest.raises(DeliveryConnectionError) as failed:
        post_webhook(f"https://127.0.0.1:{receiver.port}/hook", b"{}", {}, allow_insecure=True)

    # Then the host name check fails: verification is for the URL's host, not just the chain
    assert failed.value.reason == "the TLS certificate of 127.0.0.1 could not be verified"
    assert receiver.seen == []


# ---------------------------------------------------------------------------------------------
# Retry-After


NOW = datetime.datetime(2026, 5, 1, 12, 0, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("Fri, 01 May 2026 12:00:30 GMT", 30.0),
        ("Fri, 01 May 2026 11:00:00 GMT", 0.0),  # in the past: no wait
        ("Fri, 01 May 2026 12:01:00 -0000", 60.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("9" * 400, None),
    ],
)
def test_retry_after_is_delta_seconds_or_an_http_date(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds
