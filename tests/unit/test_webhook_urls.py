"""Webhook URL checks: every spelling of a non-public address is refused, with a reason; no DNS."""

import ipaddress

import pytest

from shared.kernel.errors import FieldError, InvalidRequestError
from shared.kernel.webhook_urls import (
    Destination,
    DestinationRefusedError,
    check_url,
    is_public_address,
)

HOSTILE = [
    # loopback, every spelling
    ("https://127.0.0.1/hook", "the address 127.0.0.1 is loopback"),
    ("https://127.255.255.254/hook", "the address 127.255.255.254 is loopback"),
    ("https://2130706433/hook", "the address 127.0.0.1 is loopback"),
    ("https://0177.0.0.1/hook", "the address 127.0.0.1 is loopback"),
    ("https://0x7f.0.0.1/hook", "the address 127.0.0.1 is loopback"),
    ("https://0x7f000001/hook", "the address 127.0.0.1 is loopback"),
    ("https://0X7F.1/hook", "the address 127.0.0.1 is loopback"),
    ("https://127.1/hook", "the address 127.0.0.1 is loopback"),
    ("https://127.0.0.1./hook", "the address 127.0.0.1 is loopback"),
    ("https://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/hook", "the address 127.0.0.1 is loopback"),
    ("https://[::1]/hook", "the address ::1 is loopback"),
    ("https://[0:0:0:0:0:0:0:1]:8443/hook", "the address ::1 is loopback"),
    # private ranges
    ("https://10.0.0.1/hook", "the address 10.0.0.1 is private"),
    ("https://10.1/hook", "the address 10.0.0.1 is private"),
    ("https://167772161/hook", "the address 10.0.0.1 is private"),
    ("https://172.16.0.1/hook", "the address 172.16.0.1 is private"),
    ("https://172.31.255.255/hook", "the address 172.31.255.255 is private"),
    ("https://192.168.1.1/hook", "the address 192.168.1.1 is private"),
    ("https://0xc0.0xa8.1.1/hook", "the address 192.168.1.1 is private"),
    ("https://[fc00::1]/hook", "the address fc00::1 is private"),
    ("https://[fd12:3456:789a::1]/hook", "the address fd12:3456:789a::1 is private"),
    # link-local and metadata services
    ("https://169.254.1.1/hook", "the address 169.254.1.1 is link-local"),
    ("https://169.254.169.254/latest/meta-data/", "the address 169.254.169.254 is a cloud metadata service"),
    ("https://2852039166/latest/meta-data/", "the address 169.254.169.254 is a cloud metadata service"),
    ("https://[fd00:ec2::254]/latest/meta-data/", "the address fd00:ec2::254 is a cloud metadata service"),
    ("https://[fe80::1]/hook", "the address fe80::1 is link-local"),
    # CGNAT, multicast, reserved, unspecified, broadcast, special-purpose
    ("https://100.64.0.1/hook", "the address 100.64.0.1 is shared address space (carrier-grade NAT)"),
    ("https://224.0.0.1/hook", "the address 224.0.0.1 is multicast"),
    ("https://239.255.255.250/hook", "the address 239.255.255.250 is multicast"),
    ("https://[ff02::1]/hook", "the address ff02::1 is multicast"),
    ("https://[ff0e::1]/hook", "the address ff0e::1 is multicast"),
    ("https://240.0.0.1/hook", "the address 240.0.0.1 is reserved"),
    ("https://0.0.0.0/hook", "the address 0.0.0.0 is unspecified"),
    ("https://0/hook", "the address 0.0.0.0 is unspecified"),
    ("https://0.1.2.3/hook", "the address 0.1.2.3 is reserved for 'this network'"),
    ("https://[::]/hook", "the address :: is unspecified"),
    ("https://255.255.255.255/hook", "the address 255.255.255.255 is the broadcast address"),
    ("https://192.0.0.9/hook", "the address 192.0.0.9 is reserved for IETF protocol assignments"),
    ("https://192.0.2.10/hook", "the address 192.0.2.10 is reserved for documentation"),
    ("https://198.18.0.1/hook", "the address 198.18.0.1 is reserved for benchmarking"),
    ("https://[2001:db8::1]/hook", "the address 2001:db8::1 is reserved for documentation"),
    ("https://[fec0::1]/hook", "the address fec0::1 is site-local"),
    # IPv6 forms that embed a non-public IPv4
    ("https://[::ffff:127.0.0.1]/hook", "embeds 127.0.0.1, which is loopback"),  # str() differs by Python version
    ("https://[::ffff:7f00:1]/hook", "embeds 127.0.0.1, which is loopback"),
    ("https://[::ffff:169.254.169.254]/", "embeds 169.254.169.254, which is a cloud metadata service"),
    ("https://[::127.0.0.1]/hook", "the address ::7f00:1 embeds 127.0.0.1, which is loopback"),
    ("https://[::10.0.0.1]/hook", "the address ::a00:1 embeds 10.0.0.1, which is private"),
    ("https://[2002:a00:1::]/hook", "the address 2002:a00:1:: embeds 10.0.0.1, which is private"),
    ("https://[2002:7f00:1::1]/hook", "the address 2002:7f00:1::1 embeds 127.0.0.1, which is loopback"),
    ("https://[64:ff9b::10.0.0.1]/hook", "the address 64:ff9b::a00:1 embeds 10.0.0.1, which is private"),
    ("https://[64:ff9b::a9fe:a9fe]/hook", "embeds 169.254.169.254, which is a cloud metadata service"),
    ("https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook", "embeds 192.0.2.45, which is reserved for documentation"),
    ("https://[2001:0:a00:1::1]/hook", "the address 2001:0:a00:1::1 embeds 10.0.0.1, which is private"),
    # zone ids, not-quite-addresses
    ("https://[fe80::1%25eth0]/hook", "IPv6 zone ids are not allowed in webhook URLs"),
    ("https://[2606:4700::1111%25eth0]/hook", "IPv6 zone ids are not allowed in webhook URLs"),
    ("https://::1/hook", "IPv6 addresses in webhook URLs must be in brackets"),
    ("https://[v1.fe]/hook", "the host in brackets is not a valid IPv6 address"),
    ("https://1.2.3.4.5/hook", "the host looks like an IPv4 address but is not a valid one"),
    ("https://127.0.0.256/hook", "the host looks like an IPv4 address but is not a valid one"),
    ("https://09.0.0.1/hook", "the host looks like an IPv4 address but is not a valid one"),
    ("https://127..1/hook", "the host name of the webhook URL is not valid"),
    ("https://%31%32%37.0.0.1/hook", "the host looks like an IPv4 address but is not a valid one"),
    ("https://exa%6dple.com/hook", "the host name of the webhook URL is not valid"),
    # schemes
    ("http://example.com/hook", "webhook URLs must use https"),
    ("ftp://example.com/hook", "webhook URLs must use https"),
    ("file:///etc/passwd", "webhook URLs must use https"),
    ("gopher://127.0.0.1:6379/_INFO", "webhook URLs must use https"),
    ("javascript:alert(1)", "webhook URLs must use https"),
    ("//example.com/hook", "webhook URLs must be absolute (https://...)"),
    ("example.com/hook", "webhook URLs must be absolute (https://...)"),
    ("", "webhook URLs must be absolute (https://...)"),
    # userinfo, hosts, ports, characters, length
    ("https://user:pass@example.com/hook", "webhook URLs must not contain a user name or password"),
    ("https://example.com@127.0.0.1/hook", "webhook URLs must not contain a user name or password"),
    ("https://example.com\\@127.0.0.1/hook", "must not contain spaces, control characters or backslashes"),
    ("https://exam\tple.com/hook", "must not contain spaces, control characters or backslashes"),
    ("https://example.com/ho ok", "must not contain spaces, control characters or backslashes"),
    ("https:///hook", "the webhook URL has no host"),
    ("https://:443/hook", "the webhook URL has no host"),
    ("https:example.com/hook", "the webhook URL has no host"),
    ("https://example.com:0/hook", "the port of a webhook URL must be between 1 and 65535"),
    ("https://example.com:65536/hook", "the port of a webhook URL must be between 1 and 65535"),
    ("https://example.com:+443/hook", "the port of a webhook URL must be a number"),
    ("https://example.com:44x/hook", "the port of a webhook URL must be a number"),
    ("https://[::1/hook", "the webhook URL cannot be parsed"),
    ("https://[::1]x/hook", "the webhook URL cannot be parsed"),
    ("https://0x/hook", "the address 0.0.0.0 is unspecified"),
    ("https://localhost/hook", "the host name localhost is reserved for local networks"),
    ("https://LOCALHOST./hook", "the host name localhost is reserved for local networks"),
    ("https://api.localhost/hook", "the host name api.localhost is reserved for local networks"),
    ("https://printer.local/hook", "the host name printer.local is reserved for local networks"),
    ("https://metadata.google.internal/hook", "the host name metadata.google.internal is reserved for local networks"),
    ("https://ip-10-0-0-1.ec2.internal./hook", "the host name ip-10-0-0-1.ec2.internal is reserved for local"),
    ("https://\uff4c\uff4f\uff43\uff41\uff4c\uff48\uff4f\uff53\uff54/hook", "the host name localhost is reserved"),
    ("https://example.com/" + "a" * 2048, "webhook URLs must be at most 2048 characters long"),
    ("https://example.com/caf\u00e9", "the path and query of webhook URLs must be ASCII"),
]


@pytest.mark.parametrize(("url", "reason"), HOSTILE)
def test_hostile_destinations_are_refused_with_a_reason(url: str, reason: str) -> None:
    # Given a webhook URL that points somewhere the service must never call
    # When it is checked at prediction creation
    with pytest.raises(DestinationRefusedError) as refused:
        check_url(url)

    # Then it is refused, and the reason says why
    assert reason in refused.value.reason


def test_the_table_covers_enough_hostile_destinations() -> None:
    assert len(HOSTILE) >= 30
    assert len({url for url, _ in HOSTILE}) == len(HOSTILE)


def test_refusal_is_an_invalid_request_with_a_json_pointer() -> None:
    # Given a private address
    # When it is checked
    with pytest.raises(DestinationRefusedError) as refused:
        check_url("https://10.0.0.1/hook")

    # Then the API can answer 422 with a pointer to the field, in a full sentence
    error = refused.value
    assert isinstance(error, InvalidRequestError)
    assert error.reason == "the address 10.0.0.1 is private"
    assert str(error) == "The webhook URL is not allowed: the address 10.0.0.1 is private."
    assert error.errors == [FieldError("/webhook", "the address 10.0.0.1 is private")]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://example.com/hook",
            Destination("https", "example.com", 443, "/hook", "https://example.com/hook"),
        ),
        (
            "https://93.184.216.34/x",
            Destination("https", "93.184.216.34", 443, "/x", "https://93.184.216.34/x"),
        ),
        (
            "https://[2606:4700::1111]/",
            Destination("https", "2606:4700::1111", 443, "/", "https://[2606:4700::1111]/"),
        ),
        (
            "HTTPS://Hooks.Example.COM.:8443?a=1&b=2#fragment",
            Destination(
                "https", "hooks.example.com", 8443, "/?a=1&b=2", "HTTPS://Hooks.Example.COM.:8443?a=1&b=2#fragment"
            ),
        ),
        (
            "https://b\u00fccher.example/hook",
            Destination("https", "xn--bcher-kva.example", 443, "/hook", "https://b\u00fccher.example/hook"),
        ),
        (
            "https://0x5d.184.216.34/x",
            Destination("https", "93.184.216.34", 443, "/x", "https://0x5d.184.216.34/x"),
        ),
        (
            "https://[64:ff9b::93.184.216.34]/x",
            Destination("https", "64:ff9b::5db8:d822", 443, "/x", "https://[64:ff9b::93.184.216.34]/x"),
        ),
        (
            "https://127.0.0.1.nip.io/x",  # a name: its addresses are vetted when it is resolved at delivery
            Destination("https", "127.0.0.1.nip.io", 443, "/x", "https://127.0.0.1.nip.io/x"),
        ),
    ],
)
def test_public_destinations_are_accepted_and_normalised(url: str, expected: Destination) -> None:
    # Given a public https URL
    # When it is checked
    destination = check_url(url)

    # Then it is accepted, with a lowercase ASCII host and a canonical address
    assert destination == expected


@pytest.mark.parametrize(
    ("url", "host_header"),
    [
        ("https://example.com/hook", "example.com"),
        ("https://example.com:8443/hook", "example.com:8443"),
        ("https://[2606:4700::1111]:443/", "[2606:4700::1111]"),
        ("https://[2606:4700::1111]:8443/", "[2606:4700::1111]:8443"),
    ],
)
def test_host_header_brackets_ipv6_and_omits_the_default_port(url: str, host_header: str) -> None:
    assert check_url(url).host_header == host_header


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("http://127.0.0.1:8123/hook", "127.0.0.1", 8123),
        ("http://[::1]:8123/hook", "::1", 8123),
        ("http://localhost:8123/hook", "localhost", 8123),
        ("https://receiver.localhost/hook", "receiver.localhost", 443),
    ],
)
def test_allow_insecure_admits_http_loopback_and_local_names(url: str, host: str, port: int) -> None:
    # Given local development
    # When a loopback or local URL is checked with allow_insecure
    destination = check_url(url, allow_insecure=True)

    # Then it is accepted
    assert (destination.host, destination.port) == (host, port)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "the address 169.254.169.254 is a cloud metadata service"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "the address fd00:ec2::254 is a cloud metadata service"),
        ("http://10.0.0.1:8080/hook", "the address 10.0.0.1 is private"),
        ("http://172.16.5.4/hook", "the address 172.16.5.4 is private"),
        ("http://192.168.0.10/hook", "the address 192.168.0.10 is private"),
        ("http://100.64.0.1/hook", "is shared address space"),
        ("http://[::ffff:127.0.0.1]/hook", "embeds 127.0.0.1, which is loopback"),
        ("http://0.0.0.0:8000/hook", "the address 0.0.0.0 is unspecified"),
        ("ftp://127.0.0.1/hook", "webhook URLs must use https"),
    ],
)
def test_allow_insecure_still_refuses_private_and_metadata_addresses(url: str, reason: str) -> None:
    # Given local development
    # When a private or metadata address is checked with allow_insecure
    with pytest.raises(DestinationRefusedError) as refused:
        check_url(url, allow_insecure=True)

    # Then it is still refused
    assert reason in refused.value.reason


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "8.8.8.8",
        "1.1.1.1",
        "2606:4700::1111",
        "2a00:1450:4001:80b::200e",
        "::ffff:93.184.216.34",  # IPv4-mapped: the socket talks IPv4 to a public address
        "64:ff9b::93.184.216.34",  # NAT64 of a public address
    ],
)
def test_global_unicast_addresses_are_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.255.255.255",
        "172.16.0.0",
        "192.168.255.255",
        "169.254.169.254",
        "169.254.170.2",
        "100.127.255.255",
        "224.0.0.251",
        "240.0.0.1",
        "255.255.255.255",
        "0.0.0.0",  # noqa: S104 - an address under test, not a bind
        "0.255.255.255",
        "192.0.0.1",
        "192.0.0.170",
        "192.0.2.1",
        "192.88.99.1",
        "198.19.255.255",
        "198.51.100.1",
        "203.0.113.1",
        "::",
        "::1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:0:10.0.0.1",  # SIIT IPv4-translated
        "::10.0.0.1",
        "::93.184.216.34",  # deprecated IPv4-compatible, even of a public address
        "64:ff9b::127.0.0.1",
        "64:ff9b:1::a00:1",
        "2002:c0a8:101::1",
        "2002:5db8:d822::1",  # 6to4 is deprecated, even for a public address
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "2001:0:5db8:d822::1",
        "2001:db8::1",
        "3fff::1",
        "100::1",
        "fc00::1",
        "fd00:ec2::254",
        "fe80::1",
        "fe80::1%eth0",
        "2606:4700::1111%eth0",
        "fec0::1",
        "ff02::1",
        "ff0e::101",
        "5f00::1",
        "4000::1",
    ],
)
def test_non_global_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))
