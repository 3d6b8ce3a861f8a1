"""The egress policy: where a tenant's own settings may make the service connect.

Every outbound connection to a host a tenant configured (its SMTP server today; webhooks and URLs
later) resolves the host, checks every address, and connects to a checked address, so a name that
resolves elsewhere between the check and the connection (DNS rebinding) changes nothing. Refused:
loopback, private, link-local, shared (CGNAT), multicast, reserved, unspecified and
documentation ranges, in every notation (IPv4, IPv6, IPv4-mapped and 6to4/Teredo-embedded IPv4,
the numeric forms ``inet_aton`` accepts such as ``2130706433`` or ``0x7f.1``). ``ISTMO_EGRESS_ALLOW``
lists the hosts or networks a deployment allows anyway (a private relay).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not is_private in every Python


class EgressRefused(Exception):
    """The host may not be reached; the reason names it (never credentials)."""


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _embedded(address: IPAddress) -> list[IPAddress]:
    """The address and the IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo)."""
    found: list[IPAddress] = []
    if isinstance(address, ipaddress.IPv6Address):
        for inner in (address.ipv4_mapped, address.sixtofour, address.teredo[1] if address.teredo else None):
            if inner is not None:
                found.append(inner)
    return [*found, address]  # what it carries first: that names the reason


def _why_refused(address: IPAddress) -> str | None:
    for candidate in _embedded(address):
        if candidate.is_loopback:
            return "a loopback address"
        if candidate.is_link_local:
            return "a link-local address"
        if candidate.is_multicast:
            return "a multicast address"
        if candidate.is_unspecified:
            return "an unspecified address"
        if isinstance(candidate, ipaddress.IPv4Address) and candidate in _SHARED:
            return "a shared (carrier-grade NAT) address"
        if candidate.is_reserved:
            return "a reserved address"
        if candidate.is_private:
            return "a private address"
        if not candidate.is_global:
            return "a reserved address"
    return None


def _name(host: str) -> str:
    """A host as written, without brackets, case or a trailing dot."""
    return host.strip().strip("[]").lower().rstrip(".")


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an address if it is one in any notation (``127.1``, ``2130706433``, ``[::1]``)."""
    text = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        pass
    try:  # the forms inet_aton accepts: 127.1, 0x7f.1, 017700000001, 2130706433
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except (OSError, ValueError, UnicodeError):
        return None


class EgressPolicy:
    def __init__(self, allow: Iterable[str] = (), *, resolver: Resolver = _resolve) -> None:
        self._allowed_hosts = set()
        self._allowed_networks = []
        for entry in allow:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                self._allowed_networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._allowed_hosts.add(entry.rstrip("."))
        self._resolve = resolver

    def __repr__(self) -> str:
        return f"EgressPolicy(allow={sorted(self._allowed_hosts) + [str(n) for n in self._allowed_networks]})"

    def _allowed(self, address: IPAddress) -> bool:
        return any(address in network for network in self._allowed_networks)

    def check_host(self, host: str) -> None:
        """Refuse what is wrong before any look-up: an internal address written literally, or a
        name no public host has (``localhost``, ``*.localhost``, ``*.internal``, ``*.local``)."""
        name = _name(host)
        if name in self._allowed_hosts:
            return
        address = literal_address(name)
        if address is not None:
            reason = _why_refused(address)
            if reason is not None and not self._allowed(address):
                raise EgressRefused(f"{host!r} is {reason}")
            return
        if name == "localhost" or name.endswith((".localhost", ".internal", ".local")) or "." not in name:
            raise EgressRefused(f"{host!r} is not a public host name")

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for ``host``: resolved, each one checked."""
        self.check_host(host)
        name = _name(host)
        literal = literal_address(name)
        try:
            found = [str(literal)] if literal is not None else list(self._resolve(name, port))
        except OSError as error:
            raise EgressRefused(f"{host!r} does not resolve ({type(error).__name__})") from None
        if not found:
            raise EgressRefused(f"{host!r} does not resolve")
        if name in self._allowed_hosts:
            return found
        for text in found:
            address = ipaddress.ip_address(text.split("%")[0])
            reason = _why_refused(address)
            if reason is not None and not self._allowed(address):
                raise EgressRefused(f"{host!r} resolves to {reason}")
        return found

    def connect(self, host: str, port: int, timeout: Any, source_address: Any = None) -> socket.socket:
        """A TCP connection to the first checked address of ``host`` that answers."""
        last: OSError | None = None
        for address in self.addresses(host, port):
            try:
                return socket.create_connection((address, port), timeout, source_address)
            except OSError as error:
                last = error
        raise last or OSError(f"cannot connect to {host}:{port}")
