"""Where a webhook may be sent: the URL check at creation time and the address policy for delivery.

Webhook URLs come from callers, so every one is a potential server-side request forgery. Two checks
share one address policy (``refusal_reason``):

- ``check_url`` runs when a prediction is created, without DNS. It refuses anything that is not an
  absolute https URL with a host, and any IP literal that is not public, in every spelling a URL
  parser might accept (``2130706433``, ``0177.0.0.1``, ``0x7f.1``, ``[::ffff:127.0.0.1]`` …):
  hosts are IDNA-mapped first and parsed with the WHATWG "ends in a number" rule, so a browser-style
  parser, ``inet_aton`` and this check agree on what is an address.
- ``shared.webhooks.http`` runs the check again at delivery time and applies the same policy to every
  address the host name resolves to, then connects to the vetted address itself.

The policy is an allow-list in spirit: only global unicast passes. The stdlib's ``is_global`` and
friends have changed between Python releases (IPv4-mapped, ``::/96``, ``192.0.0.0/24``), so the
special-purpose ranges are also named explicitly here; the stdlib flags are the backstop.
"""

import ipaddress
import re
from dataclasses import dataclass
from typing import TypeAlias
from urllib.parse import urlsplit

from shared.kernel.errors import FieldError, InvalidRequestError

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"https": 443, "http": 80}
_MAX_HOST_LENGTH = 253
_LOCAL_SUFFIXES = ("localhost", "local", "internal")  # the last label of names refused unless insecure
_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_HEX_DIGITS = frozenset("0123456789abcdef")
_RADIX_DIGITS = {10: frozenset("0123456789"), 8: frozenset("01234567"), 16: _HEX_DIGITS}


class DestinationRefusedError(InvalidRequestError):
    """A webhook URL that may not be used; ``reason`` is a short phrase safe to show the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"The webhook URL is not allowed: {reason}.")
        self.reason = reason
        self.errors = [FieldError("/webhook", reason)]


@dataclass(frozen=True)
class Destination:
    """A checked webhook URL. ``host`` is lowercase ASCII (IDNA), an IP literal in canonical form."""

    scheme: str
    host: str
    port: int
    path_and_query: str
    url: str

    @property
    def address(self) -> IPAddress | None:
        """The IP address when the host is an IP literal, else None (a name to resolve)."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    @property
    def host_header(self) -> str:
        """The ``Host`` header value: brackets around IPv6, the port unless it is the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


# ---------------------------------------------------------------------------------------------
# Address policy


def _networks(*pairs: tuple[str, str]) -> tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]:
    return tuple((ipaddress.ip_network(network), phrase) for network, phrase in pairs)


_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack instance metadata
        "169.254.170.2",  # ECS task metadata and credentials
        "169.254.170.23",  # EKS Pod Identity agent
        "fd00:ec2::254",  # AWS instance metadata over IPv6
        "fd00:ec2::23",  # EKS Pod Identity agent over IPv6
    )
)

# Special-purpose ranges (IANA registries) that the stdlib flags do not all catch on every release.
_V4_SPECIAL = _networks(
    ("0.0.0.0/8", "is reserved for 'this network'"),
    ("100.64.0.0/10", "is shared address space (carrier-grade NAT)"),
    ("192.0.0.0/24", "is reserved for IETF protocol assignments"),
    ("192.0.2.0/24", "is reserved for documentation"),
    ("192.88.99.0/24", "is reserved (the retired 6to4 relay anycast)"),
    ("198.18.0.0/15", "is reserved for benchmarking"),
    ("198.51.100.0/24", "is reserved for documentation"),
    ("203.0.113.0/24", "is reserved for documentation"),
    ("255.255.255.255/32", "is the broadcast address"),
)
_V6_SPECIAL = _networks(
    ("::/96", "is a deprecated IPv4-compatible address"),
    ("64:ff9b:1::/48", "is reserved for local-use NAT64"),
    ("100::/64", "is a discard-only address"),
    ("2001::/32", "is a Teredo tunnel address"),
    ("2001:2::/48", "is reserved for benchmarking"),
    ("2001:db8::/32", "is reserved for documentation"),
    ("2001::/23", "is reserved for IETF protocol assignments"),
    ("2002::/16", "is a 6to4 tunnel address"),
    ("3fff::/20", "is reserved for documentation"),
    ("5f00::/16", "is reserved for segment routing"),
    ("fc00::/7", "is private"),
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def is_public_address(address: IPAddress) -> bool:
    """True only for global unicast addresses a webhook may be delivered to."""
    return refusal_reason(address) is None


def is_loopback_address(address: IPAddress) -> bool:
    """127.0.0.0/8 or ::1 exactly (no zone id, no IPv4-mapped form): what ``allow_insecure`` admits."""
    if isinstance(address, ipaddress.IPv4Address):
        return address.is_loopback
    return address.scope_id is None and address == ipaddress.IPv6Address("::1")


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not public, as a phrase ("is private"), or None when it is public."""
    if isinstance(address, ipaddress.IPv4Address):
        return _ipv4_refusal(address)
    return _ipv6_refusal(address)


def _ipv4_refusal(address: ipaddress.IPv4Address) -> str | None:
    if address.is_unspecified:
        return "is unspecified"
    if address.is_loopback:
        return "is loopback"
    if address in _METADATA:
        return "is a cloud metadata service"
    if address.is_link_local:
        return "is link-local"
    if address.is_multicast:
        return "is multicast"
    for network, phrase in _V4_SPECIAL:
        if address in network:
            return phrase
    if address.is_reserved:
        return "is reserved"
    if address.is_private:
        return "is private"
    if not address.is_global:
        return "is not globally routable"
    return None


def _ipv6_refusal(address: ipaddress.IPv6Address) -> str | None:
    if address.scope_id is not None:
        return "has a zone id"
    mapped = address.ipv4_mapped
    if mapped is not None:  # ::ffff:a.b.c.d is how a dual-stack socket talks IPv4: judge the IPv4
        return _embedded_refusal(mapped)
    if address.is_unspecified:
        return "is unspecified"
    if address.is_loopback:
        return "is loopback"
    if address in _METADATA:
        return "is a cloud metadata service"
    for embedded in _embedded_ipv4(address):
        refusal = _embedded_refusal(embedded)
        if refusal is not None:
            return refusal
    if address in _NAT64:  # 64:ff9b::a.b.c.d reaches a.b.c.d through the NAT64 gateway: judged above
        return None
    if address.is_link_local:
        return "is link-local"
    if address.is_site_local:
        return "is site-local"
    if address.is_multicast:
        return "is multicast"
    for network, phrase in _V6_SPECIAL:
        if address in network:
            return phrase
    if address.is_reserved or address not in _GLOBAL_UNICAST:
        return "is reserved"
    if address.is_private:
        return "is private"
    if not address.is_global:
        return "is not globally routable"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: 6to4, Teredo (server and client), NAT64, compatible."""
    found: list[ipaddress.IPv4Address] = []
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64 or address in ipaddress.IPv6Network("::/96"):  # ipaddress has no accessor
        found.append(ipaddress.IPv4Address(address.packed[12:]))
    return found


def _embedded_refusal(embedded: ipaddress.IPv4Address) -> str | None:
    refusal = _ipv4_refusal(embedded)
    return None if refusal is None else f"embeds {embedded}, which {refusal}"


# ---------------------------------------------------------------------------------------------
# URL check


def check_url(url: str, *, allow_insecure: bool = False) -> Destination:
    """Check a webhook URL without DNS; raise ``DestinationRefusedError`` with a reason if refused.

    ``allow_insecure`` (local development only) also admits http, local host names and loopback
    literals; private, link-local and metadata addresses stay refused.
    """
    if len(url) > MAX_URL_LENGTH:
        raise DestinationRefusedError(f"webhook URLs must be at most {MAX_URL_LENGTH} characters long")
    if any(ch.isspace() or not ch.isprintable() or ch == "\\" for ch in url):
        raise DestinationRefusedError("webhook URLs must not contain spaces, control characters or backslashes")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise DestinationRefusedError("the webhook URL cannot be parsed") from None
    if not parts.scheme:
        raise DestinationRefusedError("webhook URLs must be absolute (https://...)")
    if parts.scheme != "https" and not (allow_insecure and parts.scheme == "http"):
        raise DestinationRefusedError("webhook URLs must use https")
    if not parts.netloc:
        raise DestinationRefusedError("the webhook URL has no host")
    if "@" in parts.netloc:
        raise DestinationRefusedError("webhook URLs must not contain a user name or password")

    raw_host, port_text = _split_netloc(parts.netloc)
    port = _parse_port(port_text, DEFAULT_PORTS[parts.scheme])
    host, address = _parse_host(raw_host, bracketed=parts.netloc.startswith("["))
    if address is not None:
        refusal = refusal_reason(address)
        if refusal is not None and not (allow_insecure and is_loopback_address(address)):
            raise DestinationRefusedError(f"the address {address} {refusal}")
    elif not allow_insecure and host.rsplit(".", 1)[-1] in _LOCAL_SUFFIXES:
        raise DestinationRefusedError(f"the host name {host} is reserved for local networks")

    path_and_query = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not path_and_query.isascii():
        raise DestinationRefusedError("the path and query of webhook URLs must be ASCII (percent-encode the rest)")
    return Destination(scheme=parts.scheme, host=host, port=port, path_and_query=path_and_query, url=url)


def _split_netloc(netloc: str) -> tuple[str, str | None]:
    """``host`` / ``[v6]`` and the text after ``:`` (None when there is no colon)."""
    if netloc.startswith("["):
        end = netloc.find("]")
        if end == -1:
            raise DestinationRefusedError("the webhook URL cannot be parsed")
        host, rest = netloc[1:end], netloc[end + 1 :]
    elif netloc.count(":") > 1:
        raise DestinationRefusedError("IPv6 addresses in webhook URLs must be in brackets")
    else:
        host, colon, port = netloc.partition(":")
        rest = colon + port
    if rest and not rest.startswith(":"):
        raise DestinationRefusedError("the webhook URL cannot be parsed")
    return host, (rest[1:] if rest else None)


def _parse_port(text: str | None, default: int) -> int:
    if not text:  # absent, or "host:" which parsers read as the default port
        return default
    if not (text.isascii() and text.isdigit()):
        raise DestinationRefusedError("the port of a webhook URL must be a number")
    port = int(text)
    if not 1 <= port <= 65535:
        raise DestinationRefusedError("the port of a webhook URL must be between 1 and 65535")
    return port


def _parse_host(raw: str, *, bracketed: bool) -> tuple[str, IPAddress | None]:
    if not raw:
        raise DestinationRefusedError("the webhook URL has no host")
    if bracketed:
        if "%" in raw:
            raise DestinationRefusedError("IPv6 zone ids are not allowed in webhook URLs")
        try:
            v6 = ipaddress.IPv6Address(raw)
        except ValueError:
            raise DestinationRefusedError("the host in brackets is not a valid IPv6 address") from None
        return v6.compressed, v6

    try:  # IDNA first: it maps full-width digits and dots (U+FF10, U+3002), so those spell IPv4 too
        host = raw.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise DestinationRefusedError("the host name of the webhook URL is not valid") from None
    host = host.removesuffix(".")
    if _ends_in_number(host):
        v4 = _parse_ipv4(host)
        if v4 is None:
            raise DestinationRefusedError("the host looks like an IPv4 address but is not a valid one")
        return str(v4), v4
    labels = host.split(".")
    if len(host) > _MAX_HOST_LENGTH or not all(_LABEL.fullmatch(label) for label in labels):
        raise DestinationRefusedError("the host name of the webhook URL is not valid")
    return host, None


def _ends_in_number(host: str) -> bool:
    """WHATWG URL "ends in a number": such a host is an IPv4 address or invalid, never a DNS name."""
    last = host.rsplit(".", 1)[-1]
    return (last.isascii() and last.isdigit()) or _parse_ipv4_number(last) is not None


def _parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The WHATWG IPv4 parser (also what ``inet_aton`` accepts): 1-4 parts, decimal, 0-octal or 0x-hex,
    the last part filling the remaining bytes (``127.1``, ``2130706433``, ``0x7f.0.0.1``)."""
    parts = host.split(".")
    numbers = [_parse_ipv4_number(part) for part in parts]
    if len(parts) > 4 or None in numbers:
        return None
    *leading, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in leading) or last >= 256 ** (4 - len(leading)):
        return None
    value = last
    for index, number in enumerate(leading):
        value += number * 256 ** (3 - index)
    return ipaddress.IPv4Address(value)


def _parse_ipv4_number(text: str) -> int | None:
    radix = 10
    if text[:2] == "0x":
        text, radix = text[2:], 16
    elif len(text) > 1 and text[0] == "0":
        text, radix = text[1:], 8
    elif not text:
        return None
    if not text:  # "0x" alone is zero
        return 0
    if not set(text) <= _RADIX_DIGITS[radix]:
        return None
    return int(text, radix)
