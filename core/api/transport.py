"""Sending a webhook: resolve the host once, check every address, connect only to those addresses.

Checking a host name and then letting `requests` resolve it again leaves room for DNS rebinding: a
hostile name server answers a public address to the check and 127.0.0.1 to the connection. Here the
name is resolved once per delivery, the whole delivery is refused when any address is not public
(loopback, private, link-local, ...) unless its network was explicitly allowed, and a transport
adapter connects to exactly the checked addresses. The URL keeps the host name, so the Host header,
TLS SNI and the certificate check all use it (the pattern of Advocate, github.com/JordanMilne/Advocate).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_PORTS = {"http": 80, "https": 443}


class WebhookUrlError(ValueError):
    """A URL webhooks may not be sent to; `code` is stable, `detail` says why in the delivery log."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail or code


@dataclass(frozen=True)
class Target:
    """A checked URL and the addresses its host had when checked: the only ones connected to."""

    url: str
    addresses: tuple[str, ...]


def allowed_networks(setting: str | Iterable[str] | None) -> tuple[Network, ...]:
    """The networks an operator opened for webhooks (e.g. an on-premises receiver), from a list or
    a comma-separated string of CIDRs. Empty by default: only public addresses."""
    if isinstance(setting, str):
        setting = setting.replace(",", " ").split()
    return tuple(ipaddress.ip_network(net, strict=False) for net in setting or ())


# IPv6 forms that carry an IPv4 address inside (RFC 4291 mapped and compatible, 2765 translated,
# 6052 NAT64, 3056 6to4; Teredo's 2001::/32 is refused as non-public already): a router or NAT64 gateway
# on the way turns them into that IPv4 address, so they are judged by it. The local-use NAT64
# prefix (RFC 8215) is never public, whatever it embeds (its layout is the operator's choice).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


def embedded_ipv4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, translated, NAT64, 6to4)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    # (:: and ::1 are in the compatible range but are themselves: unspecified and loopback)
    if ip in _NAT64 or ip in _IPV4_TRANSLATED or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_kind(address: str) -> str | None:
    """Why webhooks may not go to `address` (a word for the log), or None for a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip in _LOCAL_NAT64:
        return "non-public"
    ip = embedded_ipv4(ip) or ip
    for kind, applies in (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
                          ("link-local (cloud metadata)", ip.is_link_local), ("multicast", ip.is_multicast),
                          ("private", ip.is_private)):
        if applies:
            return kind
    return None if ip.is_global else "non-public"


def resolve(url: str, allowed: tuple[Network, ...] = ()) -> Target:
    """Check the URL, resolve its host and check every address; raises `WebhookUrlError`."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlError("invalid_url", "the address is not a valid URL") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or len(url) > 2000:
        raise WebhookUrlError("invalid_url", "the address is not a complete http:// or https:// URL")
    if parts.username or parts.password:
        raise WebhookUrlError("credentials_in_url", "the address contains a user name or password")
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(host, port or DEFAULT_PORTS[parts.scheme], type=socket.SOCK_STREAM,
                                   proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise WebhookUrlError("unknown_host", f"the host name {host} cannot be found") from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        kind = address_kind(address)
        if kind is not None and not _in(address, allowed):
            where = address if address == host else f"{host} resolves to {address}, which"
            raise WebhookUrlError("forbidden_address", f"{where} is a {kind} address; webhooks go to public "
                                                       "addresses only")
    return Target(url=url, addresses=addresses)


def _in(address: str, networks: tuple[Network, ...]) -> bool:
    """In an allowed network, itself or by the IPv4 address it embeds (e.g. DNS64 in front of it)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates = [ip, embedded_ipv4(ip)]
    return any(c in net for c in candidates if c is not None for net in networks if c.version == net.version)


def post(target: Target, body: bytes, headers: dict, timeout: float, verify: bool | str = True) -> requests.Response:
    """POST to the checked target: no redirects, no proxies from the environment, no second lookup."""
    with requests.Session() as session:
        session.trust_env = False
        adapter = PinnedAdapter(target.addresses)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session.post(target.url, data=body, headers=headers, timeout=timeout, allow_redirects=False,
                            verify=verify)


class PinnedAdapter(HTTPAdapter):
    """A transport adapter whose connections go to `addresses` only, whatever the host resolves to now."""

    def __init__(self, addresses: tuple[str, ...]):
        self.addresses = addresses  # before super().__init__, which builds the pool manager
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _pinned(HTTPConnectionPool, self.addresses),
                                                   "https": _pinned(HTTPSConnectionPool, self.addresses)}


def _pinned(pool_class: type[HTTPConnectionPool], addresses: tuple[str, ...]) -> type[HTTPConnectionPool]:
    """`pool_class` whose connections open their socket to one of `addresses` (in order) instead of
    resolving the host; everything else (Host header, SNI, certificate check) still uses the host."""

    def new_socket(connection) -> socket.socket:
        failure: Exception = NewConnectionError(connection, "no address to connect to")
        for address in addresses:
            try:
                return create_connection((address, connection.port), connection.timeout,
                                         source_address=connection.source_address,
                                         socket_options=connection.socket_options)
            except TimeoutError:
                failure = ConnectTimeoutError(connection, f"Connection to {connection.host} ({address}) timed out.")
            except OSError as exc:
                failure = NewConnectionError(connection, f"Cannot connect to {connection.host} ({address}): {exc}")
        raise failure

    connection_class = type(f"Pinned{pool_class.ConnectionCls.__name__}", (pool_class.ConnectionCls,),
                            {"_new_conn": new_socket})
    return type(f"Pinned{pool_class.__name__}", (pool_class,), {"ConnectionCls": connection_class})
